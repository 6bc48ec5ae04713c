"""The outbox's second half: in the event's own transaction, one delivery row per matching endpoint.

Fan-out runs for every recorded event, so it reads the enabled endpoints from an in-memory
cache (`Targets`) and inserts the deliveries with one executemany. The cache is dropped whenever
a transaction flushes or bulk-changes endpoint rows (everything that changes endpoints runs in
this process: the API and the dispatcher), and again when that transaction ends.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import event as sa_event
from sqlalchemy import insert, inspect, or_, select
from sqlalchemy.orm import Session as DbSession

from hub.store import Delivery, Endpoint, Event, Store
from hub.store.delivery import WEBHOOK_KINDS, filter_accepts, lane_for

TEST_EVENT = "test"  # sent by POST /api/<sessionId>/webhook/test, to that session's webhooks only
# Endpoint columns that decide who gets what (health bookkeeping does not invalidate the cache).
ROUTING_COLUMNS = ("kind", "url", "session_id", "events", "headers", "secret", "ordered", "scope", "enabled")
HEALTH_ONLY = "hub_endpoint_health_only"  # execution option of statements that leave routing alone


def matching_endpoints(db: DbSession, event_type: str, session_id: str | None) -> list[Endpoint]:
    """Enabled endpoints that want this event: listeners for all sessions or this one, its webhooks."""
    statement = select(Endpoint).where(Endpoint.enabled)
    if event_type == TEST_EVENT:
        statement = statement.where(Endpoint.kind.in_(WEBHOOK_KINDS), Endpoint.session_id == session_id)
        return list(db.scalars(statement))
    statement = statement.where(or_(Endpoint.session_id.is_(None), Endpoint.session_id == session_id))
    return [endpoint for endpoint in db.scalars(statement) if endpoint.wants(event_type)]


@dataclass(frozen=True)
class Target:
    """An enabled endpoint as fan-out and the dispatcher need it (a plain, immutable copy)."""

    id: str
    kind: str
    url: str
    session_id: str | None
    events: tuple
    headers: dict
    secret: str
    ordered: bool = False
    scope: frozenset | None = None  # a listener registered with a scoped key: only these sessions

    def wants(self, event_type: str, session_id: str | None) -> bool:
        """Whether this endpoint gets an event of this type from this session."""
        if event_type == TEST_EVENT:
            return self.kind in WEBHOOK_KINDS and self.session_id == session_id
        if self.session_id is not None and self.session_id != session_id:
            return False
        if self.scope is not None and session_id not in self.scope:
            return False
        return filter_accepts(self.kind, self.events, event_type)


def load_targets(db: DbSession) -> dict[str, Target]:
    """{endpoint id: Target} of every enabled endpoint, straight from the database."""
    columns = [getattr(Endpoint, name) for name in ("id",) + ROUTING_COLUMNS[:-1]]
    return {row.id: Target(row.id, row.kind, row.url, row.session_id, tuple(row.events or ()),
                           dict(row.headers or {}), row.secret, bool(row.ordered),
                           None if row.scope is None else frozenset(row.scope))
            for row in db.execute(select(*columns).where(Endpoint.enabled))}


class Targets:
    """The enabled endpoints, loaded once and reloaded after any change to endpoint rows."""

    def __init__(self, store: Store):
        self._by_id: dict[str, Target] | None = None
        sa_event.listen(store.factory, "before_flush", self._before_flush)
        sa_event.listen(store.factory, "do_orm_execute", self._on_execute)
        sa_event.listen(store.factory, "after_commit", self._after_end)
        sa_event.listen(store.factory, "after_rollback", self._after_end)

    def by_id(self, db: DbSession) -> dict[str, Target]:
        """{endpoint id: Target} of every enabled endpoint (a query only after a change)."""
        targets = self._by_id
        if targets is None:
            targets = self._by_id = load_targets(db)
        return targets

    def matching(self, db: DbSession, event_type: str, session_id: str | None) -> list[Target]:
        return [target for target in self.by_id(db).values() if target.wants(event_type, session_id)]

    def fan_out(self, db: DbSession, event: Event) -> None:
        """EventLog hook: add the event's deliveries (committed with the event, or not at all)."""
        rows = [{"event_id": event.id, "endpoint_id": target.id, "event_type": event.type,
                 "session_id": event.session_id or "", "seq": event.seq, "lane": lane_for(event.type, target.ordered),
                 "url": target.url, "created_at": event.timestamp, "next_attempt_at": event.timestamp}
                for target in self.matching(db, event.type, event.session_id)]
        if rows:
            db.execute(insert(Delivery.__table__), rows)

    def invalidate(self) -> None:
        self._by_id = None

    def _before_flush(self, db: DbSession, _context, _instances) -> None:
        if any(isinstance(obj, Endpoint) for obj in (*db.new, *db.deleted)) or any(
                isinstance(obj, Endpoint) and _routing_changed(obj) for obj in db.dirty):
            self._mark(db)

    def _on_execute(self, state) -> None:
        if ((state.is_update or state.is_delete or state.is_insert) and _touches_endpoints(state.statement)
                and not state.execution_options.get(HEALTH_ONLY)):
            self._mark(db=state.session)

    def _mark(self, db: DbSession) -> None:
        """Drop the cache now (this transaction sees its change) and again when it ends (others do)."""
        db.info["hub.endpoints_changed"] = True
        self.invalidate()

    def _after_end(self, db: DbSession) -> None:
        if db.info.pop("hub.endpoints_changed", False):
            self.invalidate()


def _routing_changed(endpoint: Endpoint) -> bool:
    attrs = inspect(endpoint).attrs
    return any(attrs[name].history.has_changes() for name in ROUTING_COLUMNS)


def _touches_endpoints(statement) -> bool:
    table = getattr(statement, "table", None)
    return table is not None and getattr(table, "name", None) == Endpoint.__tablename__
