"""The hub's one PostgreSQL LISTEN/NOTIFY facility: `notify` in a transaction, one `Listener` per process.

- `notify(db, channel, payload)` adds a notification to the caller's transaction: PostgreSQL
  delivers it only when that transaction commits, so nobody is woken for a row they cannot see
  yet, and a rolled-back write wakes nobody. The notifications of one transaction are sent in one
  statement just before its commit (a `before_commit` hook): under group commit, a batch of
  writes pays one round trip for all its notifications, not one each. Payloads stay below
  PostgreSQL's 8000-byte limit: announce ids, let the receiver read the row.
- `Listener` holds ONE dedicated connection (not from the hub's pool: a pooled connection is
  handed to other work between checkouts and would drop its LISTENs) and calls the callbacks
  registered with `subscribe(channel, callback, on_missed)`. Notifications are not durable: while
  the connection is down they are lost. So after every reconnect the listener LISTENs again and
  calls each `on_missed()`, and subscribers catch up from their table.
- It runs on a `threading.Thread`, like the coordinator's loops: a greenlet in the gevent worker
  (monkey-patched), a real thread in plain test processes. Not a native thread: psycopg 3 (the
  hub's driver, `postgresql+psycopg://`) detects gevent's patched `select` at import and then
  waits with the patched `poll` (psycopg.waiting.wait_poll), which yields to the hub; the hub
  imports psycopg only after wsgi.py patched. Callbacks therefore run on the hub's thread and may
  touch gevent objects (queues, Socket.IO) directly, with no `run_callback_threadsafe` hop per
  notification. `start` refuses to run on a patched process whose psycopg would block the hub.
- On SQLite there is nothing to listen to: `notify` does nothing and `start` starts nothing.
"""
from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session as DbSession

from hub.backoff import Backoff

log = logging.getLogger(__name__)

MAX_PAYLOAD = 7999  # bytes: PostgreSQL refuses a payload of 8000 or more
POLL_SECONDS = 0.5  # longest wait for notifications before looking at new channels and at stop()
RECONNECT = Backoff(base=0.5, cap=5.0)
CHANNEL = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")  # a plain identifier: LISTEN cannot take a parameter
_PENDING = "hub.notifications"  # db.info key: (channel, payload) to send before the commit, in order
# unnest's rows come in array order, and so do the notifications (PostgreSQL keeps a transaction's order).
_NOTIFY_ALL = text("SELECT pg_notify(channel, payload) FROM unnest(CAST(:channels AS text[]), "
                   "CAST(:payloads AS text[])) AS pending(channel, payload)")


def notify(db: DbSession, channel: str, payload: str) -> None:
    """Announce `payload` on `channel` when `db`'s transaction commits (PostgreSQL; nothing on SQLite)."""
    if db.get_bind().dialect.name != "postgresql":
        return
    if len(payload.encode()) > MAX_PAYLOAD:
        raise ValueError(f"a NOTIFY payload must be under 8000 bytes ({len(payload.encode())} given)")
    db.info.setdefault(_PENDING, []).append((channel, payload))


@event.listens_for(DbSession, "before_commit")
def _send_pending(db: DbSession) -> None:
    """Every notification of the committing transaction, in one statement."""
    pending = db.info.pop(_PENDING, None)
    if pending:
        channels, payloads = zip(*pending, strict=True)
        db.execute(_NOTIFY_ALL, {"channels": list(channels), "payloads": list(payloads)})


@event.listens_for(DbSession, "after_rollback")
def _drop_pending(db: DbSession) -> None:
    db.info.pop(_PENDING, None)


@dataclass
class Channel:
    """The subscribers of one channel."""

    callbacks: list[Callable[[str], None]] = field(default_factory=list)
    on_missed: list[Callable[[], None]] = field(default_factory=list)


class Listener:
    """This process's LISTEN connection: dispatches notifications to the subscribers of their channel."""

    def __init__(self, database_url: str, backoff: Backoff = RECONNECT):
        self.database_url = database_url
        self.backoff = backoff
        self.channels: dict[str, Channel] = {}
        self.listening: set[str] = set()  # channels LISTENed on the current connection
        self.attempts = 0  # connections tried so far: after the first, notifications may have been missed
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def enabled(self) -> bool:
        return make_url(self.database_url).get_backend_name() == "postgresql"

    def subscribe(self, channel: str, callback: Callable[[str], None],
                  on_missed: Callable[[], None] | None = None) -> None:
        """Call `callback(payload)` for each notification on `channel`; `on_missed()` after an outage.

        The LISTEN itself happens on the listener's connection within POLL_SECONDS (`is_listening`).
        """
        if not CHANNEL.match(channel):
            raise ValueError(f"channel {channel!r} is not a plain lower-case identifier")
        subscribers = self.channels.setdefault(channel, Channel())
        subscribers.callbacks.append(callback)
        if on_missed is not None:
            subscribers.on_missed.append(on_missed)

    def is_listening(self, channel: str) -> bool:
        """Whether notifications on `channel` reach this process now."""
        return channel in self.listening

    def start(self) -> None:
        """Connect and dispatch in the background (nothing on SQLite)."""
        if not self.enabled or self._thread is not None:
            return
        _check_cooperative()
        self._thread = threading.Thread(target=self._run, name="cluster-listener", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """End the loop and close the connection (SIGTERM); returns within about POLL_SECONDS."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            self.attempts += 1
            try:
                with self._connect() as connection:
                    failures = 0
                    self._serve(connection)
            except Exception as exc:  # psycopg.OperationalError mostly; nothing may end the loop
                failures += 1
                log.warning("cluster: notification connection lost (%s); reconnecting", type(exc).__name__)
            self.listening.clear()
            self._stopping.wait(self.backoff.delay(failures) if failures else 0)

    def _connect(self):
        import psycopg  # PostgreSQL only: a SQLite hub never imports the driver
        url = make_url(self.database_url).set(drivername="postgresql")
        # Keep-alives: a peer that vanished (network cut) must end the wait, not hang it for hours.
        return psycopg.connect(url.render_as_string(hide_password=False), autocommit=True, connect_timeout=3,
                               keepalives=1, keepalives_idle=5, keepalives_interval=2, keepalives_count=3)

    def _serve(self, connection) -> None:
        self._listen_new(connection)
        if self.attempts > 1:
            self._missed()
        while not self._stopping.is_set():
            for notification in connection.notifies(timeout=POLL_SECONDS):
                self._dispatch(notification.channel, notification.payload)
            self._listen_new(connection)

    def _listen_new(self, connection) -> None:
        for channel in list(self.channels):
            if channel not in self.listening:
                connection.execute(f"LISTEN {channel}")  # checked against CHANNEL in subscribe
                self.listening.add(channel)

    def _dispatch(self, channel: str, payload: str) -> None:
        subscribers = self.channels.get(channel)
        for callback in subscribers.callbacks if subscribers else ():
            try:
                callback(payload)
            except Exception:
                log.exception("cluster: a notification subscriber of %s failed", channel)

    def _missed(self) -> None:
        """Tell every subscriber that notifications may have been lost while the connection was down."""
        for name, subscribers in list(self.channels.items()):
            for on_missed in subscribers.on_missed:
                try:
                    on_missed()
                except Exception:
                    log.exception("cluster: catching up on %s failed", name)


def _check_cooperative() -> None:
    """Refuse a gevent-patched process whose psycopg was imported before patching (it would block the hub)."""
    from gevent import monkey
    if not monkey.is_module_patched("select"):
        return
    from psycopg import waiting
    if waiting.wait is getattr(waiting, "wait_c", None):
        raise RuntimeError("psycopg was imported before gevent patched the process: its waits would block "
                           "every greenlet (import the hub after monkey.patch_all(), as wsgi.py does)")


def start(context, scheduler) -> None:
    """Background module: listen on PostgreSQL (the subscribers registered themselves while the app was built)."""
    context.listener.start()


def stop(context) -> None:
    context.listener.stop()
