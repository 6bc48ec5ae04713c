"""A python-socketio client for tests that records every event it receives."""
from __future__ import annotations

import queue

import socketio


class Client:
    """A python-socketio client that records every event it gets, in order."""

    def __init__(self, **options):
        self.sio = socketio.Client(reconnection=False, **options)
        self.received: queue.Queue = queue.Queue()
        self.refusals: list = []
        self.sio.on("*", lambda event, data: self.received.put((event, data)))
        self.sio.on("connect_error", self.refusals.append)

    def connect(self, hub, transport: str = "websocket", **options) -> Client:
        """Connect to `hub` (anything with a `url`) with one transport."""
        self.sio.connect(hub.url, transports=[transport], wait_timeout=10, **options)
        return self

    def next(self, wanted: str, timeout: float = 10) -> dict:
        """The next event named `wanted` (others are skipped)."""
        while True:
            event, data = self.received.get(timeout=timeout)
            if event == wanted:
                return data

    def close(self) -> None:
        self.sio.disconnect()
