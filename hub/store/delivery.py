"""Delivery models: endpoints (listeners and webhooks), deliveries (the outbox) and their attempts."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, SmallInteger, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.ids import new_id
from hub.store.models import Base, CleanString, CleanText, isoformat, utcnow


class DeliveryStatus(StrEnum):
    """Where one event's delivery to one endpoint stands (the values the API shows)."""

    PENDING = "pending"  # not tried yet
    DELIVERING = "delivering"  # claimed: a POST is (or was, before a crash) in flight
    DELIVERED = "delivered"
    RETRYING = "failed"  # an attempt failed and another is scheduled (the wire value predates the name)
    DEAD = "dead"  # given up: the schedule is used up, the receiver answered 410, or its endpoint is disabled


CLAIMABLE = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)  # due for an attempt once next_attempt_at passes
UNFINISHED = (DeliveryStatus.PENDING, DeliveryStatus.DELIVERING, DeliveryStatus.RETRYING)

# A delivery's lane decides its turn within its queue (its endpoint's deliveries of one session):
# lane PRIORITY goes before NORMAL (a logged-out number must not wait behind a message backlog);
# an ordered endpoint's deliveries are all lane ORDERED: one at a time per queue, in `seq` order.
LANE_PRIORITY, LANE_NORMAL, LANE_ORDERED = 0, 1, 2
PRIORITY_EVENTS = ("session-status", "qr")


def lane_for(event_type: str, ordered: bool) -> int:
    """The lane of a new delivery of `event_type` to an endpoint (ordered or not)."""
    if ordered:
        return LANE_ORDERED
    return LANE_PRIORITY if event_type in PRIORITY_EVENTS else LANE_NORMAL


# Endpoint kinds. A compat webhook is the one a session's POST /api/<id>/webhook sets (the older
# services' semantics: one per session, a second POST replaces it); plain webhooks add up.
class EndpointKind(StrEnum):
    """What an endpoint is (the values the API shows)."""

    LISTENER = "listener"  # POST /api/whatsapp/register-listener: every session or one
    WEBHOOK = "webhook"  # POST /api/sessions/<id>/webhooks: several per session
    COMPAT_WEBHOOK = "compat-webhook"  # POST /api/<id>/webhook: one per session, replaced


WEBHOOK_KINDS = (EndpointKind.WEBHOOK, EndpointKind.COMPAT_WEBHOOK)


def filter_accepts(kind: str, events, event_type: str) -> bool:
    """Whether an endpoint of this kind with this event filter gets events of `event_type`.

    The older services reported the API's own sends as `message-from-me`, so a compat webhook whose
    filter covers message-from-me also gets `message-sent` (delivered under that name: see
    hub/delivery/compat.py).
    """
    if "all" in events or event_type in events:
        return True
    return kind == EndpointKind.COMPAT_WEBHOOK and event_type == "message-sent" and "message-from-me" in events


class Endpoint(Base):
    """Where events are POSTed: a listener (all sessions or one) or a session's webhook."""

    __tablename__ = "endpoints"
    __table_args__ = (UniqueConstraint("kind", "session_key", "url", name="uq_endpoint_url"),)

    id: Mapped[str] = mapped_column(CleanString(40), primary_key=True, default=lambda: new_id("ep"))
    kind: Mapped[str] = mapped_column(CleanString(16))  # an EndpointKind
    url: Mapped[str] = mapped_column(CleanString(2048))
    session_id: Mapped[str | None] = mapped_column(CleanString(64), index=True)
    # Webhooks are unique per (session, url), listeners per url (key ""): no NULL in the constraint.
    session_key: Mapped[str] = mapped_column(CleanString(64), default="")
    events: Mapped[list] = mapped_column(JSON, default=lambda: ["all"])
    headers: Mapped[dict] = mapped_column(JSON, default=dict)
    # A listener registered with a scoped key gets only these sessions' events (None: any session).
    scope: Mapped[list | None] = mapped_column(JSON)
    secret: Mapped[str] = mapped_column(CleanString(128))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # One delivery at a time per session, in event order (taken by deliveries of later events).
    ordered: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    disabled_reason: Mapped[str | None] = mapped_column(CleanText)
    last_success_at: Mapped[datetime | None]
    last_failure_at: Mapped[datetime | None]
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def wants(self, event_type: str) -> bool:
        """Whether this endpoint's filter accepts `event_type`."""
        return filter_accepts(self.kind, self.events, event_type)

    def configure(self, events: list[str], headers: dict, secret: str | None,
                  session_id: str | None, ordered: bool | None = None) -> None:
        """Apply a (re-)registration: new filter and headers, the secret and `ordered` when given; re-enables."""
        self.events, self.headers, self.session_id = events, headers, session_id
        self.secret = secret or self.secret
        if ordered is not None:
            self.ordered = ordered
        elif self.ordered is None:  # a new endpoint registered without it
            self.ordered = False
        self.enabled, self.disabled_reason = True, None

    @staticmethod
    def health_after(health: dict, success: bool, at: datetime) -> dict:
        """Health columns after one more attempt (values: the dispatcher saves a batch in one executemany)."""
        if success:
            return {**health, "last_success_at": at, "consecutive_failures": 0}
        return {**health, "last_failure_at": at, "consecutive_failures": health["consecutive_failures"] + 1}

    def disable(self, reason: str) -> None:
        self.enabled, self.disabled_reason = False, reason

    def to_dict(self, health: dict, reveal_secret: bool = False) -> dict:
        """The Endpoint JSON; the full secret only right after create/update."""
        return {
            "id": self.id, "kind": self.kind, "url": self.url, "sessionId": self.session_id, "scope": self.scope,
            "events": list(self.events), "headers": dict(self.headers), "ordered": bool(self.ordered),
            "secret": self.secret if reveal_secret else None, "secretHint": self.secret[:8] + "…",
            "enabled": self.enabled, "disabledReason": self.disabled_reason,
            "createdAt": isoformat(self.created_at),
            "health": {"lastSuccessAt": isoformat(self.last_success_at),
                       "lastFailureAt": isoformat(self.last_failure_at),
                       "consecutiveFailures": self.consecutive_failures, **health},
        }


@dataclass(frozen=True)
class AttemptEnd:
    """How one attempt at a delivery ended, as the retry policy judged it."""

    status: str  # DeliveryStatus: delivered, retrying or dead
    attempt: int  # its number, 1-based
    at: datetime
    status_code: int | None  # None: no HTTP answer (see `error`)
    error: str | None
    retry_in: float | None = None  # seconds before the next attempt (retrying only)
    delivered_at: datetime | None = None  # by an earlier attempt (a replayed delivery)


_DELIVERING = text(f"status = '{DeliveryStatus.DELIVERING}'")
RETRYING_SQL = f"status = '{DeliveryStatus.RETRYING}'"  # as written in the query that uses the index below
_WAITING = text("next_attempt_at IS NOT NULL")
# Ordered deliveries not finished yet (the claim's head lookup repeats it, so SQLite uses the index).
ORDERED_UNFINISHED_SQL = f"lane = {LANE_ORDERED} AND status IN ({', '.join(repr(str(s)) for s in UNFINISHED)})"


class Delivery(Base):
    """One event to one endpoint: the outbox row the dispatcher claims, attempts and reschedules."""

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_endpoint", "endpoint_id", "created_at"),
                      # the dispatcher's fair claim walks the queues (endpoint, session) of waiting
                      # deliveries and reads each lane's due ones in order (hub/delivery/outbox.py)
                      Index("ix_deliveries_queue", "endpoint_id", "session_id", "lane", "next_attempt_at", "seq",
                            sqlite_where=_WAITING, postgresql_where=_WAITING),
                      # the head (lowest seq) of an ordered queue: only unfinished ordered deliveries
                      Index("ix_deliveries_ordered", "endpoint_id", "session_id", "seq",
                            sqlite_where=text(ORDERED_UNFINISHED_SQL), postgresql_where=text(ORDERED_UNFINISHED_SQL)),
                      # the lease sweep; partial, so only claimed (in-flight) deliveries are in it
                      # when the next retry falls due (only a failed attempt schedules one in the future);
                      # partial, so that no claim scan can pick it over ix_deliveries_queue
                      Index("ix_deliveries_retry", "next_attempt_at", sqlite_where=text(RETRYING_SQL),
                            postgresql_where=text(RETRYING_SQL)),
                      Index("ix_deliveries_lease", "lease_until", sqlite_where=_DELIVERING,
                            postgresql_where=_DELIVERING))

    id: Mapped[str] = mapped_column(CleanString(40), primary_key=True, default=lambda: new_id("dlv"))
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    endpoint_id: Mapped[str] = mapped_column(ForeignKey("endpoints.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(CleanString(32))
    # The event's session ("" for an event without one): a queue is (endpoint, session).
    session_id: Mapped[str | None] = mapped_column(CleanString(64), index=True)
    seq: Mapped[int | None] = mapped_column(Integer)  # the event's seq: order within an ordered queue
    lane: Mapped[int] = mapped_column(SmallInteger, default=LANE_NORMAL, server_default=text(str(LANE_NORMAL)))
    url: Mapped[str] = mapped_column(CleanString(2048))
    status: Mapped[str] = mapped_column(CleanString(16), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Set only while the delivery waits for an attempt: the dispatcher's due scan reads this index.
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None]
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(CleanText)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    delivered_at: Mapped[datetime | None]

    @staticmethod
    def after_attempt(end: AttemptEnd) -> dict:
        """Column values once an attempt ended as `end` says (its status from the retry policy).

        Values rather than attribute changes: the dispatcher saves a batch in one executemany.
        """
        assert end.status in (DeliveryStatus.DELIVERED, DeliveryStatus.RETRYING, DeliveryStatus.DEAD), end.status
        retrying = end.status == DeliveryStatus.RETRYING
        return {"status": end.status, "attempts": end.attempt, "lease_until": None,
                "last_status_code": end.status_code, "last_error": end.error,
                "next_attempt_at": end.at + timedelta(seconds=end.retry_in) if retrying else None,
                "delivered_at": end.at if end.status == DeliveryStatus.DELIVERED else end.delivered_at}

    def replay(self, now: datetime) -> None:
        """Send again as soon as possible with a fresh retry schedule (the attempt log stays)."""
        self.status, self.attempts, self.next_attempt_at, self.lease_until = DeliveryStatus.PENDING, 0, now, None

    def to_dict(self) -> dict:
        return {
            "id": self.id, "eventId": self.event_id, "eventType": self.event_type,
            "sessionId": self.session_id or None, "endpointId": self.endpoint_id, "url": self.url,
            "status": self.status, "attempts": self.attempts,
            "nextAttemptAt": isoformat(self.next_attempt_at), "lastStatusCode": self.last_status_code,
            "lastError": self.last_error, "createdAt": isoformat(self.created_at),
            "deliveredAt": isoformat(self.delivered_at),
        }


class Attempt(Base):
    """One POST of a delivery: when, what came back, how long it took."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    status_code: Mapped[int | None]
    success: Mapped[bool] = mapped_column(Boolean, default=False)
    latency_ms: Mapped[float | None]
    error: Mapped[str | None] = mapped_column(CleanText)
    response: Mapped[str | None] = mapped_column(CleanText)

    def to_dict(self) -> dict:
        return {"at": isoformat(self.at), "statusCode": self.status_code,
                "latencyMs": None if self.latency_ms is None else round(self.latency_ms, 1),
                "error": self.error, "response": self.response}
