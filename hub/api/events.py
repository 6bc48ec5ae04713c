"""GET /api/events: the stored event log, newest first."""
from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from hub.api.common import INT64_MAX, Model, blueprint, hub, ok
from hub.api.responses import answers, ok_model
from hub.events import EVENT_TYPES

bp = blueprint("events", "Stored hub events")


class EventQuery(Model):
    model_config = ConfigDict(extra="ignore", strict=False, populate_by_name=True)

    session_id: str | None = Field(None, alias="sessionId")
    type: str | None = Field(None, pattern="^(" + "|".join(EVENT_TYPES) + ")$")
    after_seq: int | None = Field(None, alias="afterSeq", ge=0, le=INT64_MAX,
                                     description="Only events with a larger seq")
    limit: int = Field(50, ge=1, le=500)


@bp.get("/events", responses=answers(ok_model("EventList", events=list[dict[str, Any]]), 404))
def list_events(query: EventQuery):
    """Stored events, newest first (or oldest first after `afterSeq`)."""
    return ok(events=hub().events.list(query.session_id, query.type, query.after_seq, query.limit))
