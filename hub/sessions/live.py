"""A live session: the engine running it in this process, its current QR and its reconnect timer.

While whatsmeow reconnects by itself (its dial is alive) the hub only watches; after
`WHATSMEOW_RECONNECT_WATCHDOG` seconds without a connection it takes over. Otherwise the hub
redials after `RECONNECT`'s delays. One timer per session: scheduling replaces the previous one.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from hub.backoff import Backoff
from hub.sessions.engine import Engine

WHATSMEOW_RECONNECT_WATCHDOG = 600.0
RECONNECT = Backoff(base=2.0, cap=300.0, jitter=0.2)  # 2, 4, 8 ... s, capped at 5 minutes, ±20 %


@dataclass
class LiveSession:
    """One running session's engine, QR and pending redial."""

    engine: Engine
    qr: str | None = None
    qr_expires_at: datetime | None = None
    reconnect_timer: threading.Timer | None = None

    def schedule_reconnect(self, delay: float, redial: Callable[[], None]) -> None:
        """Call `redial` after `delay` seconds, instead of any redial scheduled before."""
        self.cancel_reconnect()
        timer = threading.Timer(delay, redial)
        timer.daemon = True
        self.reconnect_timer = timer
        timer.start()

    def cancel_reconnect(self) -> None:
        """Drop the pending redial, if any."""
        if self.reconnect_timer is not None:
            self.reconnect_timer.cancel()
            self.reconnect_timer = None
