"""GET /api/events: the stored event log, newest first."""
from __future__ import annotations

from pydantic import ConfigDict, Field
from sqlalchemy import select

from hub.api.common import Model, blueprint, ok
from hub.app import hub
from hub.events import EVENT_TYPES
from hub.store import Event

bp = blueprint("events", "Stored hub events")


class EventQuery(Model):
    model_config = ConfigDict(extra="ignore", strict=False, populate_by_name=True)

    session_id: str | None = Field(None, alias="sessionId")
    type: str | None = Field(None, pattern="^(" + "|".join(EVENT_TYPES) + ")$")
    after_seq: int | None = Field(None, alias="afterSeq", ge=0, description="Only events with a larger seq")
    limit: int = Field(50, ge=1, le=500)


@bp.get("/events")
def list_events(query: EventQuery):
    """Stored events, newest first (or oldest first after `afterSeq`)."""
    statement = select(Event)
    if query.session_id:
        statement = statement.where(Event.session_id == query.session_id)
    if query.type:
        statement = statement.where(Event.type == query.type)
    if query.after_seq is not None:
        statement = statement.where(Event.seq > query.after_seq).order_by(Event.seq)
    else:
        statement = statement.order_by(Event.seq.desc())
    with hub().store.session() as db:
        events = [event.envelope() for event in db.scalars(statement.limit(query.limit))]
    return ok(events=events)
