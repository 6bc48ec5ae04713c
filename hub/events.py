"""Recording hub events (the outbox's first half) and the in-process event bus.

`EventLog.record` writes the event row and, in the same transaction, whatever the registered
hooks add (the delivery fan-out adds one delivery row per matching endpoint).
Only after the commit (of the outermost transaction, when `record` runs inside another `db`) is
the envelope published on the bus (WebSockets, dispatcher wake-up).
"""
from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from sqlalchemy import BigInteger, insert, literal, select
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session as DbSession

from hub.caller import current_caller
from hub.store import Event, Store, utcnow
from hub.store.ids import new_id
from hub.store.models import clean_json

log = logging.getLogger(__name__)

# Every type a filter accepts: endpoints, listeners, WebSockets, the event log (README.md, "Events").
EVENT_TYPES = ("message-received", "message-from-me", "message-sent", "message-failed",
               "message-delivered", "message-read", "session-status", "qr", "message-edited",
               "message-revoked", "poll-vote", "call-received", "group-update", "status-received",
               "message-history", "chat-presence")

RecordHook = Callable[[DbSession, Event], None]
_INSERT = insert(Event.__table__).returning(Event.__table__.c.seq, sort_by_parameter_order=True)
_UNPUBLISHED = "hub.unpublished_envelopes"  # db.info key: envelopes waiting for their commit


class Subscription:
    """A bounded queue of envelopes; a slow reader loses the oldest, never blocks publishers."""

    def __init__(self, bus: EventBus, accept: Callable[[dict], bool], maxsize: int):
        self._bus = bus
        self._accept = accept
        self.queue: queue.Queue = queue.Queue(maxsize=maxsize)

    def offer(self, envelope: dict) -> None:
        if not self._accept(envelope):
            return
        while True:
            try:
                self.queue.put_nowait(envelope)
                return
            except queue.Full:
                try:
                    self.queue.get_nowait()
                except queue.Empty:
                    pass

    def get(self, timeout: float | None = None) -> dict | None:
        """The next envelope, or None after `timeout` seconds."""
        try:
            return self.queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self) -> None:
        self._bus.unsubscribe(self)


class EventBus:
    """In-process publish/subscribe of event envelopes (nothing here is durable)."""

    def __init__(self):
        self._subscriptions: list[Subscription] = []
        self._callbacks: list[Callable[[dict], None]] = []  # not "listeners": those are endpoints
        self._lock = threading.Lock()

    def subscribe(self, accept: Callable[[dict], bool] = lambda _: True,
                  maxsize: int = 1000) -> Subscription:
        subscription = Subscription(self, accept, maxsize)
        with self._lock:
            self._subscriptions.append(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            if subscription in self._subscriptions:
                self._subscriptions.remove(subscription)

    def offer(self, envelope: dict) -> None:
        """To the subscriptions only: a peer process's event (hub/cluster/broadcast.py); callbacks are for own work."""
        with self._lock:
            subscriptions = list(self._subscriptions)
        for subscription in subscriptions:
            subscription.offer(envelope)

    def add_callback(self, callback: Callable[[dict], None]) -> None:
        """`callback(envelope)` runs in the publisher's greenlet: it must be quick."""
        self._callbacks.append(callback)

    def publish(self, envelope: dict) -> None:
        """An event of this process: to every subscription, then to every callback."""
        self.offer(envelope)
        for callback in self._callbacks:
            try:
                callback(envelope)
            except Exception:
                log.exception("event listener failed")


class EventLog:
    """Stores events durably, then publishes them."""

    def __init__(self, store: Store, bus: EventBus):
        self.store = store
        self.bus = bus
        self.hooks: list[RecordHook] = []
        # Envelopes wait in db.info until their transaction commits (also when it is an outer one).
        sa_event.listen(store.factory, "after_commit", self._publish_pending)
        sa_event.listen(store.factory, "after_rollback", lambda db: db.info.pop(_UNPUBLISHED, None))

    def add_hook(self, hook: RecordHook) -> None:
        """`hook(db, event)` runs inside the recording transaction (e.g. delivery fan-out)."""
        self.hooks.append(hook)

    def poll_options(self, session_id: str, poll_message_id: str, scan: int = 500) -> list[str]:
        """The option names of a poll the session received or sent (from its event, among the latest `scan`)."""
        with self.store.session() as db:
            rows = db.scalars(select(Event.data).where(Event.session_id == session_id, Event.type.in_(
                ("message-received", "message-from-me", "message-sent"))).order_by(Event.seq.desc()).limit(scan))
            for data in rows:
                if data.get("messageId") == poll_message_id and data.get("poll"):
                    return list(data["poll"].get("options") or [])
        return []

    def record(self, type: str, session_id: str | None, data: dict, sandbox: bool = False) -> dict:
        """Store one event (and its hooks' rows) in one transaction; return its envelope."""
        return self.record_many([(type, session_id, data, sandbox)])[0]

    def record_many(self, drafts: list[tuple[str, str | None, dict, bool]]) -> list[dict]:
        """Store events given as (type, session id, data, sandbox), with one INSERT; their envelopes."""
        now = utcnow()
        events = []
        for type, session_id, data, sandbox in drafts:
            assert type in EVENT_TYPES or type.startswith("test"), type
            # NULs stripped here, so receivers, replays and the stored row all get the same data.
            events.append(Event(id=new_id("evt"), type=type, session_id=session_id, data=clean_json(data),
                                sandbox=sandbox, timestamp=now))
        with self.store.session() as db:
            # A Core insert (the rows never change afterwards): no unit-of-work flush per event.
            values = [{"id": event.id, "type": event.type, "session_id": event.session_id, "data": event.data,
                       "sandbox": event.sandbox, "timestamp": now} for event in events]
            seqs = db.connection().execute(_INSERT, values if len(values) > 1 else values[0]).scalars().all()
            for event, seq in zip(events, seqs, strict=True):
                event.seq = seq
                for hook in self.hooks:
                    hook(db, event)
            envelopes = [event.envelope() for event in events]
            db.info.setdefault(_UNPUBLISHED, []).extend(envelopes)
        return envelopes

    def list(self, session_id: str | None = None, type: str | None = None, after_seq: int | None = None,
             limit: int = 50) -> list[dict]:
        """Stored envelopes, newest first; oldest first after `after_seq` (a reader catching up)."""
        statement = select(Event)
        caller = current_caller()
        if not caller.is_admin:
            statement = statement.where(Event.session_id.in_(caller.sessions))
        if session_id:
            statement = statement.where(Event.session_id == session_id)
        if type:
            statement = statement.where(Event.type == type)
        if after_seq is not None:
            # A 64-bit bound: the column is a 32-bit integer on PostgreSQL, which refuses a larger int4 value.
            statement = statement.where(Event.seq > literal(after_seq, BigInteger())).order_by(Event.seq)
        else:
            statement = statement.order_by(Event.seq.desc())
        with self.store.session() as db:
            return [event.envelope() for event in db.scalars(statement.limit(limit))]

    def _publish_pending(self, db: DbSession) -> None:
        for envelope in db.info.pop(_UNPUBLISHED, ()):
            self.bus.publish(envelope)
