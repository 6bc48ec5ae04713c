"""The simulated servers' push across hub processes (scale-out on PostgreSQL).

WhatsApp's servers push a message to a device's open socket at once, whoever sent it. Here a
message is queued (`sandbox_queue`) by whichever hub process the sender or the phone-side call
reached, but the device's socket may be open in another process. That process looks for queued
messages of its online devices every `PUSH_EVERY` seconds and hands each one to its connection
once (`handed`: until the device acknowledges it, or its socket closes and the connect's own
redelivery takes over). One process (SQLite) sees every enqueue itself and never polls.
"""
from __future__ import annotations

import logging

import gevent
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from hub.store.sandbox import SandboxQueued

log = logging.getLogger(__name__)

PUSH_EVERY = 0.2  # seconds: a message sent through another process arrives this late at most (plus a query)


class CrossProcessPush:
    """Hands this process's online devices what other processes queued for them (hub thread only)."""

    def __init__(self, network):
        self.network = network
        self.handed: dict[int, str] = {}  # seq -> device: given to its connection here, not yet acknowledged
        self.polling = network.store.engine.dialect.name != "sqlite"
        self._loop: gevent.Greenlet | None = None

    def hand(self, seq: int, device: str) -> None:
        """Message `seq` went to the device's connection in this process: the poll must not hand it again."""
        self.handed[seq] = device

    def acked(self, seq: int) -> None:
        self.handed.pop(seq, None)

    def closed(self, device: str) -> None:
        """The device's socket here closed: its unacknowledged messages come again with its next connect."""
        for seq in [seq for seq, owner in self.handed.items() if owner == device]:
            del self.handed[seq]

    def watch(self) -> None:
        """A device connected here: start polling (once) when other processes may queue for it."""
        if self.polling and self._loop is None:
            self._loop = gevent.spawn(self._run)

    def _run(self) -> None:
        while True:
            gevent.sleep(PUSH_EVERY)
            if not self.network.online:
                continue
            try:
                self.push_waiting()
            except SQLAlchemyError as exc:  # the database is down: the next round tries again
                log.warning("sandbox: push poll failed (%s)", type(exc).__name__)

    def push_waiting(self) -> int:
        """Hand every queued, unacknowledged message of a device online here to its connection; how many."""
        devices = list(self.network.online)
        with self.network.store.session() as db:
            rows = db.execute(select(SandboxQueued.seq, SandboxQueued.device, SandboxQueued.code,
                                     SandboxQueued.payload)
                              .where(SandboxQueued.device.in_(devices), SandboxQueued.acked.is_(False))
                              .order_by(SandboxQueued.seq)).all()
        pushed = 0
        for seq, device, code, payload in rows:
            connection = self.network.online.get(device)
            if seq in self.handed or connection is None:
                continue
            self.hand(seq, device)
            connection.deliver(code, payload, seq)
            pushed += 1
        return pushed
