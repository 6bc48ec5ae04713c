"""Per-session pacing: a minimum interval between two sends of one number (HUB_SEND_INTERVAL)."""
from __future__ import annotations

import threading
import time


class Pacer:
    """Hands out send slots per session, at most one per `interval` seconds."""

    def __init__(self, interval: float, clock=time.monotonic, sleep=time.sleep):
        self.interval = interval
        self._clock, self._sleep = clock, sleep
        self._next_slot: dict[str, float] = {}
        self._lock = threading.Lock()

    def try_take(self, session_id: str) -> bool:
        """Take the session's slot if it is free now (the API's send-now path)."""
        if self.interval <= 0:
            return True
        with self._lock:
            now = self._clock()
            if self._next_slot.get(session_id, 0.0) > now:
                return False
            self._next_slot[session_id] = now + self.interval
            return True

    def take(self, session_id: str) -> None:
        """Wait for the session's next slot and take it (the queue worker)."""
        if self.interval <= 0:
            return
        with self._lock:
            now = self._clock()
            slot = max(now, self._next_slot.get(session_id, 0.0))
            self._next_slot[session_id] = slot + self.interval
        if slot > now:
            self._sleep(slot - now)
