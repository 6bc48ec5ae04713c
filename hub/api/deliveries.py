"""The delivery log: list, inspect (with attempts), replay one or many, per-minute stats."""
from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field, model_validator

from hub.api.common import Model, Page, UtcDatetime, blueprint, check_range, hub, ok
from hub.api.responses import answers, ok_model
from hub.delivery import deliveries
from hub.events import EVENT_TYPES
from hub.store.delivery import DeliveryStatus

bp = blueprint("deliveries", "Delivery log and replay")
STATUS_PATTERN = "^(" + "|".join(DeliveryStatus) + ")$"


class DeliveryQuery(Page):
    status: str | None = Field(None, pattern=STATUS_PATTERN)
    endpoint_id: str | None = Field(None, alias="endpointId", max_length=40)
    session_id: str | None = Field(None, alias="sessionId", max_length=64)
    event_type: str | None = Field(None, alias="eventType", pattern="^(" + "|".join(EVENT_TYPES + ("test",)) + ")$")
    since: UtcDatetime | None = Field(None, description="Created at or after (ISO 8601; UTC without an offset)")
    until: UtcDatetime | None = Field(None, description="Created before (ISO 8601; UTC without an offset)")

    @model_validator(mode="after")
    def _until_after_since(self):
        check_range(self.since, self.until)
        return self


class DeliveryPath(Model):
    delivery_id: str = Field(max_length=40)


class BulkReplay(Model):
    model_config = ConfigDict(extra="ignore", strict=False, populate_by_name=True)

    endpoint_id: str = Field(alias="endpointId", max_length=40)
    status: str | None = Field(None, pattern=STATUS_PATTERN, description="Only deliveries in this status")
    since: UtcDatetime = Field(description="Created at or after (ISO 8601; UTC without an offset)")
    until: UtcDatetime = Field(description="Created before (ISO 8601; UTC without an offset)")


class StatsQuery(Model):
    model_config = ConfigDict(extra="ignore", strict=False)

    minutes: int = Field(60, ge=1, le=1440)


@bp.get("/deliveries", responses=answers(ok_model(
    "DeliveryList", deliveries=list[dict[str, Any]], total=int, limit=int, offset=int), 404))
def list_deliveries(query: DeliveryQuery):
    """Deliveries, newest first, filtered and paginated."""
    filters = query.model_dump(exclude={"limit", "offset"})
    return ok(**deliveries.list_deliveries(hub(), query.limit, query.offset, **filters))


@bp.get("/deliveries/stats", responses=answers(ok_model("DeliveryStats", buckets=list[dict[str, Any]])))
def delivery_stats(query: StatsQuery):
    """Delivered and failed attempts per minute (for the dashboard chart)."""
    return ok(buckets=deliveries.minute_stats(hub(), query.minutes))


@bp.post("/deliveries/replay", responses=answers(ok_model("BulkReplayed", count=int, truncated=bool), 404))
def replay_deliveries(body: BulkReplay):
    """Replay an endpoint's deliveries in a time range (at most 10,000 per call)."""
    return ok(**deliveries.replay_bulk(hub(), body.endpoint_id, body.since, body.until, body.status))


@bp.get("/deliveries/<delivery_id>", responses=answers(ok_model(
    "DeliveryDetail", delivery=dict[str, Any], event=dict[str, Any] | None), 404))
def get_delivery(path: DeliveryPath):
    """One delivery with its attempt log and event."""
    return ok(**deliveries.get_delivery(hub(), path.delivery_id))


@bp.post("/deliveries/<delivery_id>/replay", responses=answers(ok_model("Replayed", delivery=dict[str, Any]), 404, 409))
def replay_delivery(path: DeliveryPath):
    """Send one delivery again now (same webhook-id)."""
    return ok(delivery=deliveries.replay_one(hub(), path.delivery_id))
