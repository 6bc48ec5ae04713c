"""The delivery log: list and inspect deliveries, replay one or many, per-minute outcome counts."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session as DbSession

from hub.caller import current_caller
from hub.context import HubContext
from hub.delivery import endpoints
from hub.delivery.worker import wake
from hub.errors import BadRequest, Conflict, NotFound
from hub.store import Attempt, Delivery, Endpoint, Event, utcnow
from hub.store.delivery import DeliveryStatus
from hub.store.models import isoformat

BULK_REPLAY_LIMIT = 10_000


def seen_by_caller() -> tuple:
    """SQL conditions for the caller's deliveries: a scoped key sees its sessions' deliveries to its endpoints."""
    caller = current_caller()
    if caller.is_admin:
        return ()
    return (Delivery.session_id.in_(caller.sessions),
            Delivery.endpoint_id.in_(select(Endpoint.id).where(*endpoints.seen_by_caller())))


def _filtered(status=None, endpoint_id=None, session_id=None, event_type=None, since=None, until=None):
    """A SELECT of the caller's deliveries matching the given filters."""
    statement = select(Delivery).where(*seen_by_caller())
    for column, value in ((Delivery.status, status), (Delivery.endpoint_id, endpoint_id),
                          (Delivery.session_id, session_id), (Delivery.event_type, event_type)):
        if value is not None:
            statement = statement.where(column == value)
    if since is not None:
        statement = statement.where(Delivery.created_at >= since)
    if until is not None:
        statement = statement.where(Delivery.created_at < until)
    return statement


def list_deliveries(context: HubContext, limit: int, offset: int, **filters) -> dict:
    """A page of deliveries, newest first, with the total matching count."""
    statement = _filtered(**filters)
    with context.store.session() as db:
        total = db.scalar(select(func.count()).select_from(statement.subquery()))
        page = db.scalars(statement.order_by(Delivery.created_at.desc(), Delivery.id.desc())
                          .limit(limit).offset(offset))
        return {"deliveries": [delivery.to_dict() for delivery in page], "total": total,
                "limit": limit, "offset": offset}


def _delivery(db: DbSession, delivery_id: str) -> Delivery:
    delivery = db.scalar(select(Delivery).where(Delivery.id == delivery_id, *seen_by_caller()))
    if delivery is None:
        raise NotFound(f"Delivery '{delivery_id}' does not exist.", code="delivery_not_found")
    return delivery


def get_delivery(context: HubContext, delivery_id: str) -> dict:
    """One delivery with its attempt log (oldest first) and the event it carries."""
    with context.store.session() as db:
        delivery = _delivery(db, delivery_id)
        attempts = db.scalars(select(Attempt).where(Attempt.delivery_id == delivery_id).order_by(Attempt.id))
        event = db.scalar(select(Event).where(Event.id == delivery.event_id))
        return {"delivery": {**delivery.to_dict(), "attemptLog": [a.to_dict() for a in attempts]},
                "event": event.envelope() if event else None}


def _require_enabled(db: DbSession, endpoint_id: str) -> None:
    endpoint = db.get(Endpoint, endpoint_id)
    if endpoint is None or not endpoints.visible(endpoint):
        raise NotFound(f"Endpoint '{endpoint_id}' does not exist.", code="endpoint_not_found")
    if not endpoint.enabled:
        raise Conflict(f"Endpoint {endpoint.url} is disabled ({endpoint.disabled_reason}); register it "
                       f"again to re-enable it, then replay.", code="endpoint_disabled")


def replay_one(context: HubContext, delivery_id: str) -> dict:
    """Send one delivery again now (same event, same webhook-id), with a fresh retry schedule."""
    with context.store.session() as db:
        delivery = _delivery(db, delivery_id)
        _require_enabled(db, delivery.endpoint_id)
        if delivery.status == DeliveryStatus.DELIVERING:
            raise Conflict("This delivery is being sent right now; replay it once the attempt ends.",
                           code="delivery_in_flight")
        delivery.replay(utcnow())
        result = delivery.to_dict()
    wake(context)
    return result


def replay_bulk(context: HubContext, endpoint_id: str, since: datetime, until: datetime,
                status: str | None = None) -> dict:
    """Replay an endpoint's deliveries created in [since, until) (optionally of one status)."""
    if until <= since:
        raise BadRequest("until must be later than since.", code="invalid_range")
    if status == DeliveryStatus.DELIVERING:
        raise BadRequest("Deliveries being sent cannot be replayed.", code="invalid_status")
    statement = _filtered(status, endpoint_id, since=since, until=until)
    statement = statement.where(Delivery.status != DeliveryStatus.DELIVERING)
    with context.store.session() as db:
        _require_enabled(db, endpoint_id)
        ids = db.scalars(statement.with_only_columns(Delivery.id).order_by(Delivery.created_at)
                         .limit(BULK_REPLAY_LIMIT + 1)).all()
        now = utcnow()
        db.execute(update(Delivery).where(Delivery.id.in_(ids[:BULK_REPLAY_LIMIT]))
                   .values(status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now, lease_until=None)
                   .execution_options(synchronize_session=False))
    wake(context)
    return {"count": min(len(ids), BULK_REPLAY_LIMIT), "truncated": len(ids) > BULK_REPLAY_LIMIT}


def _minute(db: DbSession, column):
    """`YYYY-MM-DDTHH:MM` of a timestamp column, in SQL (SQLite or PostgreSQL)."""
    if db.get_bind().dialect.name == "postgresql":
        return func.to_char(func.date_trunc("minute", column), 'YYYY-MM-DD"T"HH24:MI')
    return func.strftime("%Y-%m-%dT%H:%M", column)


def minute_stats(context: HubContext, minutes: int) -> list[dict]:
    """Delivered and failed attempts per minute over the last `minutes` (oldest first, zeros kept)."""
    start = utcnow().replace(second=0, microsecond=0) - timedelta(minutes=minutes - 1)
    with context.store.session() as db:
        minute = _minute(db, Attempt.at)
        statement = select(minute, func.sum(case((Attempt.success, 1), else_=0)),
                           func.sum(case((Attempt.success, 0), else_=1))).where(Attempt.at >= start)
        if not current_caller().is_admin:
            statement = statement.where(Attempt.delivery_id.in_(select(Delivery.id).where(*seen_by_caller())))
        rows = db.execute(statement.group_by(minute)).all()
    counts = {label: (int(ok or 0), int(bad or 0)) for label, ok, bad in rows}
    buckets = []
    for step in range(minutes):
        at = start + timedelta(minutes=step)
        delivered, failed = counts.get(at.strftime("%Y-%m-%dT%H:%M"), (0, 0))
        buckets.append({"minute": isoformat(at), "delivered": delivered, "failed": failed})
    return buckets
