"""Receipts from simulated phones: delivered 0.3 s and read 0.6 s after a send, batched like WhatsApp's.

The phone acknowledges in batches: the ids due within one tick go out as ONE receipt per
(chat, kind), so a burst of sends costs a few receipt events, not two per message. The timer
is one OS thread (a goroutine of the simulated library), started with the first receipt.
"""
from __future__ import annotations

import heapq
import itertools
import math
import time

from hub import native
from hub.sandbox.network import RECEIPT_CODE
from hub.sessions import builders

RECEIPT_DELAYS = {"delivered": 0.3, "read": 0.6}
RECEIPT_TICK = 0.05


class ReceiptClock:
    """Schedules the simulated recipients' receipts for a library's connections."""

    def __init__(self, library):
        self.library = library
        self._lock = native.real_lock()
        self._due: dict[tuple, list[str]] = {}  # (tick, connection id, chat, kind) -> message ids
        self._heap: list = []
        self._count = itertools.count()
        self._connections: dict[int, object] = {}
        self._running = False

    def schedule(self, connection, message_id: str, chat: str) -> None:
        """Queue the delivered and read receipts of a message `connection` sent to a simulated phone."""
        now = time.monotonic()
        with self._lock:
            self._connections[id(connection)] = connection
            for kind, delay in RECEIPT_DELAYS.items():
                key = (math.ceil((now + delay) / RECEIPT_TICK), id(connection), chat, kind)
                batch = self._due.setdefault(key, [])
                batch.append(message_id)
                if len(batch) == 1:
                    heapq.heappush(self._heap, (key[0] * RECEIPT_TICK, next(self._count), key))
            if not self._running:
                self._running = True
                native.go(self._run)

    def _run(self) -> None:
        while (key := self._next()) is not None:
            with self._lock:
                message_ids = self._due.pop(key)
                connection = self._connections.get(key[1])
            if connection is not None and connection.connected:  # a phone's receipt to an offline device is lost
                event = builders.receipt_event(message_ids, key[2], key[3])
                connection.deliver(RECEIPT_CODE, event.SerializeToString(), None)

    def _next(self):
        """The next due batch; None (and the thread ends) when nothing is left."""
        while True:
            with self._lock:
                if not self._heap:
                    self._running = False
                    self._connections = {}
                    return None
                when, _, key = self._heap[0]
                wait = when - time.monotonic()
                if wait <= 0:
                    heapq.heappop(self._heap)
                    return key
            native.Signal().wait(min(wait, RECEIPT_TICK))
