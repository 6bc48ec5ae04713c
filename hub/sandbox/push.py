"""The simulated servers' push across hub processes (scale-out on PostgreSQL).

WhatsApp's servers push a message to a device's open socket at once, whoever sent it. Here a
message is queued (`sandbox_queue`) by whichever hub process the sender or the phone-side call
reached, but the device's socket may be open in another process. The queuing transaction
announces the device on `QUEUED` (hub/cluster/notify.py, sent at its commit), and the process
where that device is online hands it what is queued, once (`handed`: until the device
acknowledges it, or its socket closes and the connect's own redelivery takes over). An
acknowledgement is announced on `ACKED`, which wakes a phone-side call waiting for it in another
process. Notifications are not durable: after the listener's reconnect (`on_missed`) and every
`SAFETY_EVERY` seconds each process looks at the queue anyway. One process (SQLite) sees every
enqueue and acknowledgement itself and neither listens nor looks.
"""
from __future__ import annotations

import logging

import gevent
from gevent.event import Event as GreenEvent
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from hub.store.sandbox import SandboxQueued

log = logging.getLogger(__name__)

QUEUED = "hub_sandbox_queued"  # NOTIFY channel: a message was queued (payload: the device JID)
ACKED = "hub_sandbox_acked"  # NOTIFY channel: a device acknowledged a message (payload: its queue seq)
SAFETY_EVERY = 1.0  # seconds between looks at the queue without a notification (one may have been lost)


class CrossProcessPush:
    """Hands this process's online devices what other processes queued for them (hub thread only)."""

    def __init__(self, network, listener=None):
        self.network = network
        self.handed: dict[int, str] = {}  # seq -> device: given to its connection here, not yet acknowledged
        self.shared = network.store.engine.dialect.name != "sqlite"  # other processes queue and acknowledge too
        self._hub = gevent.get_hub()
        self._kick = GreenEvent()  # set (on the hub's thread) when a device online here may have new messages
        self._loop: gevent.Greenlet | None = None
        if self.shared and listener is not None and listener.enabled:
            listener.subscribe(QUEUED, self._heard_queued, on_missed=self._wake)
            listener.subscribe(ACKED, self._heard_acked)

    def hand(self, seq: int, device: str) -> None:
        """Message `seq` went to the device's connection in this process: the push must not hand it again."""
        self.handed[seq] = device

    def acked(self, seq: int) -> None:
        self.handed.pop(seq, None)

    def closed(self, device: str) -> None:
        """The device's socket here closed: its unacknowledged messages come again with its next connect."""
        for seq in [seq for seq, owner in self.handed.items() if owner == device]:
            del self.handed[seq]

    def watch(self) -> None:
        """A device connected here: start the push (once) when other processes may queue for it."""
        if self.shared and self._loop is None:
            self._loop = gevent.spawn(self._run)

    def _heard_queued(self, device: str) -> None:
        if device in self.network.online:
            self._wake()

    def _heard_acked(self, seq: str) -> None:
        self._hub.loop.run_callback_threadsafe(self.network.acked_elsewhere, int(seq))

    def _wake(self) -> None:
        """From any thread (the listener's runs on the hub's under gunicorn, on its own in plain tests)."""
        self._hub.loop.run_callback_threadsafe(self._kick.set)

    def _run(self) -> None:
        while True:
            self._kick.wait(SAFETY_EVERY)
            self._kick.clear()
            if not self.network.online:
                continue
            try:
                self.push_waiting()
            except SQLAlchemyError as exc:  # the database is down: the next round tries again
                log.warning("sandbox: push failed (%s)", type(exc).__name__)

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
