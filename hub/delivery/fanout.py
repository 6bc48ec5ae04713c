"""The outbox's second half: in the event's own transaction, one delivery row per matching endpoint."""
from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session as DbSession

from hub.store import Delivery, Endpoint, Event

TEST_EVENT = "test"  # sent by POST /api/<sessionId>/webhook/test, to that session's webhooks only


def matching_endpoints(db: DbSession, event_type: str, session_id: str | None) -> list[Endpoint]:
    """Enabled endpoints that want this event: listeners for all sessions or this one, its webhooks."""
    statement = select(Endpoint).where(Endpoint.enabled)
    if event_type == TEST_EVENT:
        statement = statement.where(Endpoint.kind == "webhook", Endpoint.session_id == session_id)
        return list(db.scalars(statement))
    statement = statement.where(or_(Endpoint.session_id.is_(None), Endpoint.session_id == session_id))
    return [endpoint for endpoint in db.scalars(statement) if endpoint.wants(event_type)]


def fan_out(db: DbSession, event: Event) -> None:
    """EventLog hook: add the event's deliveries (committed with the event, or not at all)."""
    for endpoint in matching_endpoints(db, event.type, event.session_id):
        db.add(Delivery(event_id=event.id, endpoint_id=endpoint.id, event_type=event.type,
                        session_id=event.session_id, url=endpoint.url, created_at=event.timestamp,
                        next_attempt_at=event.timestamp))
