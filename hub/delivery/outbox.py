"""The delivery outbox in the database: claim due rows with a lease, save outcomes, release, purge.

Every function takes a `db` and does no network I/O, so it holds the (single SQLite)
connection only briefly.
"""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, case, delete, exists, insert, select, update
from sqlalchemy.orm import Session as DbSession

from hub.delivery.policy import Decision, decide
from hub.store import Attempt, Delivery, Endpoint, Event
from hub.store.delivery import CLAIMABLE

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """A claimed delivery with everything needed to POST it."""

    delivery_id: str
    endpoint_id: str
    event_id: str
    url: str
    secret: str
    headers: dict
    body: bytes


@dataclass(frozen=True)
class Result:
    """What one POST of a job got back (status_code None: no HTTP answer, see `error`)."""

    job: Job
    at: datetime
    status_code: int | None
    latency_ms: float
    error: str | None = None
    response: str | None = None
    retry_after: str | None = None


def claim(db: DbSession, limit: int, per_endpoint: int, in_flight: Counter, now: datetime,
          lease: timedelta) -> list[Job]:
    """Lease up to `limit` due deliveries, at most `per_endpoint` in flight per endpoint.

    Only waiting rows have a `next_attempt_at` (a claim clears it), so the due scan walks the
    index in time order and reads a few rows, whatever the size of the delivery log.
    """
    busy = [endpoint for endpoint, count in in_flight.items() if count >= per_endpoint]
    due = (select(Delivery.id, Delivery.endpoint_id).join(Endpoint, Endpoint.id == Delivery.endpoint_id)
           .where(Delivery.next_attempt_at <= now, Delivery.status.in_(CLAIMABLE), Endpoint.enabled)
           .order_by(Delivery.next_attempt_at).limit(limit * 4))
    if busy:
        due = due.where(Delivery.endpoint_id.not_in(busy))
    ids = _within_caps(db.execute(due).all(), limit, per_endpoint, in_flight)
    if not ids:
        return []
    claimed = db.scalars(update(Delivery).where(Delivery.id.in_(ids), Delivery.status.in_(CLAIMABLE))
                         .values(status="delivering", lease_until=now + lease, next_attempt_at=None)
                         .returning(Delivery.id).execution_options(synchronize_session=False)).all()
    return _jobs(db, claimed)


def _within_caps(rows, limit: int, per_endpoint: int, in_flight: Counter) -> list[str]:
    """Ids from `rows` (oldest first) that fit the per-endpoint and total caps."""
    taken: Counter = Counter()
    ids = []
    for delivery_id, endpoint_id in rows:
        if len(ids) >= limit:
            break
        if in_flight[endpoint_id] + taken[endpoint_id] < per_endpoint:
            taken[endpoint_id] += 1
            ids.append(delivery_id)
    return ids


def _jobs(db: DbSession, delivery_ids: list[str]) -> list[Job]:
    """Jobs for claimed deliveries (one serialised body per event)."""
    rows = db.execute(select(Delivery.id, Endpoint.id, Endpoint.url, Endpoint.secret, Endpoint.headers, Event)
                      .join(Endpoint, Endpoint.id == Delivery.endpoint_id)
                      .join(Event, Event.id == Delivery.event_id)
                      .where(Delivery.id.in_(delivery_ids))).all()
    bodies: dict[str, bytes] = {}
    jobs = []
    for delivery_id, endpoint_id, url, secret, headers, event in rows:
        body = bodies.get(event.id) or bodies.setdefault(event.id, event.envelope_json().encode())
        jobs.append(Job(delivery_id, endpoint_id, event.id, url, secret, dict(headers or {}), body))
    return jobs


def next_due(db: DbSession, now: datetime) -> datetime | None:
    """When the next delivery that is not due yet falls due (an index lookup)."""
    return db.scalar(select(Delivery.next_attempt_at).where(Delivery.next_attempt_at > now)
                     .order_by(Delivery.next_attempt_at).limit(1))


def save_results(db: DbSession, results: list[Result], schedule: list[float]) -> None:
    """Record each attempt, apply the retry policy, update endpoint health (one transaction)."""
    known = {row.id: row for row in db.execute(select(Delivery.id, Delivery.attempts, Delivery.delivered_at)
                                               .where(Delivery.id.in_([r.job.delivery_id for r in results])))}
    endpoints = {row.id: row for row in db.scalars(
        select(Endpoint).where(Endpoint.id.in_({r.job.endpoint_id for r in results})))}
    changes, attempts = [], []
    for result in results:
        delivery = known.get(result.job.delivery_id)
        if delivery is None:  # its endpoint was removed while the POST was in flight
            continue
        endpoint = endpoints[result.job.endpoint_id]
        decision = decide(delivery.attempts + 1, result.status_code, schedule, result.at, result.retry_after)
        if decision.status == "failed" and not endpoint.enabled:
            decision = Decision("dead")
        changes.append({"delivery_id": delivery.id, **Delivery.after_attempt(
            decision.status, delivery.attempts + 1, result.at, result.status_code, result.error,
            decision.delay, delivery.delivered_at)})
        attempts.append({"delivery_id": delivery.id, "at": result.at, "status_code": result.status_code,
                         "success": decision.status == "delivered", "latency_ms": result.latency_ms,
                         "error": result.error, "response": result.response})
        endpoint.record_result(decision.status == "delivered", result.at)
        if decision.disable and endpoint.enabled:
            disable_endpoint(db, endpoint, f"the receiver answered 410 Gone at {result.at:%Y-%m-%d %H:%M:%S} UTC")
    if changes:  # two executemany statements for the whole batch
        table = Delivery.__table__
        db.execute(update(table).where(table.c.id == bindparam("delivery_id")), changes)
        db.execute(insert(Attempt.__table__), attempts)


def disable_endpoint(db: DbSession, endpoint: Endpoint, reason: str) -> None:
    """Stop sending to `endpoint`: its waiting deliveries become dead (replayable once re-enabled)."""
    endpoint.disable(reason)
    db.execute(update(Delivery).where(Delivery.endpoint_id == endpoint.id, Delivery.status.in_(CLAIMABLE))
               .values(status="dead", next_attempt_at=None, last_error=f"endpoint disabled: {reason}")
               .execution_options(synchronize_session=False))
    log.warning("endpoint %s disabled: %s", endpoint.url, reason, extra={"endpointId": endpoint.id})


def release_leases(db: DbSession, now: datetime, expired_only: bool = True) -> int:
    """Make claimed deliveries claimable again: those whose lease expired, or all (start-up)."""
    statement = update(Delivery).where(Delivery.status == "delivering")
    if expired_only:
        statement = statement.where(Delivery.lease_until < now)
    result = db.execute(statement.values(status=case((Delivery.attempts == 0, "pending"), else_="failed"),
                                         lease_until=None, next_attempt_at=now)
                        .execution_options(synchronize_session=False))
    return result.rowcount


def purge_events(db: DbSession, cutoff: datetime, batch: int = 500) -> int:
    """Delete up to `batch` events older than `cutoff` whose deliveries all succeeded (cascades)."""
    unfinished = exists().where(Delivery.event_id == Event.id, Delivery.status != "delivered")
    ids = db.scalars(select(Event.id).where(Event.timestamp < cutoff, ~unfinished).limit(batch)).all()
    if ids:
        db.execute(delete(Event).where(Event.id.in_(ids)))
    return len(ids)
