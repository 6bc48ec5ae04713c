"""The delivery outbox in the database: claim due rows with a lease, save outcomes, release, purge.

Every function takes a `db` and does no network I/O, so it holds the (single SQLite)
connection only briefly.
"""
from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import bindparam, case, delete, exists, insert, select, text, union_all, update
from sqlalchemy.orm import Session as DbSession

from hub.delivery.compat import delivered_body
from hub.delivery.fanout import HEALTH_ONLY, Target, load_targets
from hub.delivery.policy import Decision, decide
from hub.store import Attempt, Delivery, Endpoint, Event
from hub.store.delivery import (
    CLAIMABLE,
    LANE_NORMAL,
    LANE_PRIORITY,
    ORDERED_UNFINISHED_SQL,
    RETRYING_SQL,
    AttemptEnd,
    DeliveryStatus,
)

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
    attempts: int = 0  # made before this one
    delivered_at: datetime | None = None  # by an earlier attempt (a replayed delivery)
    lease_until: datetime | None = None  # the lease it was claimed with: its outcome is saved only under it
    session_id: str = ""  # its queue is (endpoint_id, session_id)


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

    @property
    def ended_at(self) -> datetime:
        """When the attempt was over: retries are counted from here, not from its start."""
        return self.at + timedelta(milliseconds=self.latency_ms)


# One POST beyond an endpoint's slots, for a session with none in flight while others hold them all:
# its event does not wait for one of theirs to end (a slow receiver: up to the webhook timeout).
SPARE = 1
UNION_CHUNK = 100  # endpoints per claim statement (SQLite allows 500 compound terms)


class InFlight:
    """This process's POSTs in flight, per endpoint and per queue (endpoint, session).

    On PostgreSQL the other processes' POSTs count too: the claim reads every endpoint's leased
    deliveries (see `claim`).
    """

    def __init__(self):
        self.endpoints: Counter = Counter()
        self.queues: Counter = Counter()

    def add(self, job: Job) -> None:
        self.endpoints[job.endpoint_id] += 1
        self.queues[job.endpoint_id, job.session_id] += 1

    def remove(self, job: Job) -> None:
        for counter, key in ((self.endpoints, job.endpoint_id), (self.queues, (job.endpoint_id, job.session_id))):
            counter[key] -= 1
            if counter[key] <= 0:
                del counter[key]

    def total(self) -> int:
        return sum(self.endpoints.values())


def claim(db: DbSession, limit: int, per_endpoint: int, in_flight: InFlight, now: datetime, lease: timedelta, *,
          targets: dict[str, Target] | None = None, bodies: dict[str, bytes] | None = None,
          fair: bool = True) -> list[Job]:
    """Lease up to `limit` due deliveries, at most `per_endpoint` in flight per endpoint (plus SPARE).

    An endpoint's free slots go round-robin to its queues (one per session): a session's
    deliveries wait for its own backlog, not another session's; when the others hold every slot, a
    session with nothing in flight takes the spare one instead of waiting for one of their POSTs to
    end. Within a queue, lane PRIORITY (session-status, qr) goes first, then the oldest due; an
    ordered queue sends only its head.
    `targets` are the enabled endpoints (the dispatcher's cache) and `bodies` serialised envelopes
    it already has; both are read from the database when not given. `fair=False` is the previous
    claim (oldest due first per endpoint), kept for bench/fanout.py's comparison only.
    """
    targets = load_targets(db) if targets is None else targets
    if fair:
        room = _room(targets, in_flight, per_endpoint + SPARE)
        candidates, leased = _queue_candidates(db, _claimable_here(db, room), now)
        free, spare = fair_slots(room, leased, in_flight.endpoints, per_endpoint)
        rows = fair_turns(candidates, free, in_flight.queues, spare)[:limit]
    else:
        due = _due(db, _room(targets, in_flight, per_endpoint), now)
        rows = sorted(due, key=lambda row: row.next_attempt_at)[:limit]
    if not rows:
        return []
    lease_until = now + lease
    statement = _CLAIM_SKIP_LOCKED if db.get_bind().dialect.name == "postgresql" else _CLAIM
    claimed = set(db.scalars(statement, {"ids": [row.id for row in rows], "lease_until": lease_until}))
    return _jobs(db, [row for row in rows if row.id in claimed], targets, bodies or {}, lease_until)


# Several processes (PostgreSQL) hold each endpoint's cap together: the claim counts the endpoint's
# leased deliveries (every process's POSTs in flight) in its candidate read, rather than giving each
# process a part of the cap, which would leave slots idle when one process has the work and overshoot
# while the processes disagree on how many are alive. Two processes claiming for one endpoint at once
# would both see the same free slots, so a process claims only for the endpoints whose advisory lock
# it takes (never waiting: an endpoint locked elsewhere is claimed by the other process this round),
# in a statement of its own so that the candidate read's snapshot sees the other's committed claims.
_ENDPOINT_LOCKS = 7_150_018  # advisory lock space of the claim (pg_try_advisory_xact_lock(space, endpoint))
_LOCK_ENDPOINTS = ("SELECT e FROM unnest(CAST(%(ids)s AS text[])) AS e "
                   "WHERE pg_try_advisory_xact_lock(%(space)s, hashtext(e))")


def _claimable_here(db: DbSession, free: dict[str, int]) -> dict[str, int]:
    """The endpoints of `free` this process may claim for now: all on SQLite; on PostgreSQL those it locks."""
    connection = db.connection()
    if connection.dialect.name != "postgresql" or not free:
        return free
    locked = connection.exec_driver_sql(_LOCK_ENDPOINTS, {"ids": list(free), "space": _ENDPOINT_LOCKS})
    return {endpoint_id: free[endpoint_id] for (endpoint_id,) in locked}


def _room(targets: dict[str, Target], in_flight: InFlight, cap: int) -> dict[str, int]:
    """POSTs each endpoint may still get from this process, under `cap` in flight."""
    return {endpoint_id: cap - in_flight.endpoints[endpoint_id] for endpoint_id in targets
            if in_flight.endpoints[endpoint_id] < cap}


def fair_slots(room: dict[str, int], leased: dict[str, int], mine: Counter,
               per_endpoint: int) -> tuple[dict[str, int], dict[str, int]]:
    """Per endpoint: the free slots any queue may take, and the SPARE ones only for a queue with none in flight.

    Every process's leased deliveries count ({} leased: this process's own). Whether a queue has
    nothing in flight is known from this process's own POSTs, so the spare is given only where all
    the endpoint's POSTs in flight are this process's (always on SQLite).
    """
    free, spare = {}, {}
    for endpoint_id in room:
        out = leased.get(endpoint_id, mine[endpoint_id])
        free[endpoint_id] = max(0, per_endpoint - out)
        spare[endpoint_id] = min(SPARE, per_endpoint + SPARE - out) if out == mine[endpoint_id] else 0
    return free, spare


def fair_turns(rows: list, free: dict[str, int], queues_in_flight: Counter,
               spare: dict[str, int] | None = None) -> list:
    """The candidates that get a slot: per endpoint, up to its free slots, round-robin over its queues.

    A candidate's turn is its position in its lane plus what its queue already has in flight, so
    a session with four POSTs out waits for the sessions with none; lane PRIORITY goes first.
    An endpoint's `spare` slots go beyond its free ones, to queues with nothing in flight only.
    """
    positions: Counter = Counter()
    turns = []
    for row in sorted(rows, key=lambda row: (row.next_attempt_at, row.seq or 0)):
        queue = (row.endpoint_id, row.session_id)
        positions[queue, row.lane] += 1
        turn = queues_in_flight[queue] + positions[queue, row.lane]
        turns.append(((row.lane != LANE_PRIORITY, turn, row.next_attempt_at, row.seq or 0), row))
    taken: Counter = Counter()
    picked = []
    for (_lane, turn, *_), row in sorted(turns, key=lambda item: item[0]):
        idle = turn == 1 and not taken[row.endpoint_id, row.session_id]  # its queue has nothing in flight
        slots = free.get(row.endpoint_id, 0) + ((spare or {}).get(row.endpoint_id, 0) if idle else 0)
        if taken[row.endpoint_id] < slots:
            taken[row.endpoint_id] += 1
            taken[row.endpoint_id, row.session_id] += 1
            picked.append(row)
    return picked


# Statements built once (building SQL per round cost more than running it); values are bound.
_DELIVERIES = Delivery.__table__  # Core, not ORM: these run several times per dispatcher round
_CLAIM = (update(_DELIVERIES)
          .where(_DELIVERIES.c.id.in_(bindparam("ids", expanding=True)), _DELIVERIES.c.status.in_(CLAIMABLE))
          .values(status=DeliveryStatus.DELIVERING, lease_until=bindparam("lease_until"), next_attempt_at=None)
          .returning(_DELIVERIES.c.id))
# PostgreSQL: rows another transaction holds (a claim, a sweep, an endpoint being disabled) are skipped,
# not waited for; the status condition still makes a second claim of one row impossible.
_CLAIM_SKIP_LOCKED = (update(_DELIVERIES)
                      .where(_DELIVERIES.c.id.in_(select(_DELIVERIES.c.id)
                                                  .where(_DELIVERIES.c.id.in_(bindparam("ids", expanding=True)),
                                                         _DELIVERIES.c.status.in_(CLAIMABLE))
                                                  .with_for_update(skip_locked=True).scalar_subquery()))
                      .values(status=DeliveryStatus.DELIVERING, lease_until=bindparam("lease_until"),
                              next_attempt_at=None)
                      .returning(_DELIVERIES.c.id))
_COLUMNS = "d.id, d.endpoint_id, d.session_id, d.lane, d.next_attempt_at, d.seq, d.event_id, d.attempts, d.delivered_at"
# The queues (endpoint, session) that have waiting deliveries: one index seek each (a loose index scan).
_FIRST_QUEUE = ("SELECT CAST(:e{i} AS VARCHAR(40)), (SELECT w.session_id FROM deliveries w WHERE w.endpoint_id = :e{i} "
                "AND w.next_attempt_at IS NOT NULL ORDER BY w.session_id LIMIT 1)")
_NEXT_QUEUE = ("SELECT q.endpoint_id, (SELECT w.session_id FROM deliveries w WHERE w.endpoint_id = q.endpoint_id "
               "AND w.next_attempt_at IS NOT NULL AND w.session_id > q.session_id ORDER BY w.session_id LIMIT 1) "
               "FROM queues q WHERE q.session_id IS NOT NULL")
# Per queue and lane, its first due deliveries (an index range scan); per queue, an ordered head:
# the lowest seq of its unfinished ordered deliveries, claimed when it waits and is due.
_LANE = ("FROM deliveries w WHERE w.endpoint_id = q.endpoint_id AND w.session_id = q.session_id AND w.lane = {lane} "
         "AND w.next_attempt_at <= :now ORDER BY w.next_attempt_at, w.seq LIMIT :n")
_HEAD = (f"FROM deliveries w WHERE w.endpoint_id = q.endpoint_id AND w.session_id = q.session_id "
         f"AND {ORDERED_UNFINISHED_SQL} ORDER BY w.seq LIMIT 1")
# SQLite has no LATERAL: it looks the rows up by rowid, from a correlated subquery per queue. The
# walk's last row per endpoint has no session: skipped before any lookup.
_PER_QUEUE = {"sqlite": "FROM queues q JOIN deliveries d ON d.rowid IN (SELECT w.rowid {rows}) "
                        "WHERE q.session_id IS NOT NULL",
              "postgresql": "FROM queues q CROSS JOIN LATERAL (SELECT w.* {rows}) d WHERE q.session_id IS NOT NULL"}
# PostgreSQL only (SQLite has one process, whose InFlight is exact): each endpoint's leased deliveries,
# every process's, as rows of lane -1 with the count in the seq column (ix_deliveries_lease: in-flight rows only).
LEASED_LANE = -1
_LEASED = (f"SELECT NULL, d.endpoint_id, NULL, {LEASED_LANE}, NULL, count(*), NULL, 0, NULL FROM deliveries d "
           f"WHERE d.status = '{DeliveryStatus.DELIVERING}' AND d.lease_until > :now AND d.endpoint_id IN ({{ids}}) "
           "GROUP BY d.endpoint_id")


class Candidate(NamedTuple):
    """A waiting delivery the fair claim may lease (a row of the statement below)."""

    id: str
    endpoint_id: str
    session_id: str
    lane: int
    next_attempt_at: datetime
    seq: int | None
    event_id: str
    attempts: int
    delivered_at: datetime | None


@lru_cache(maxsize=2 * UNION_CHUNK)
def _queues_sql(endpoints: int, dialect: str) -> str:
    """The fair claim's read for `endpoints` endpoints; binds now, n (rows per lane), e<i> (endpoint ids).

    Plain SQL run on the driver: it runs once per dispatcher round, and SQLAlchemy's statement
    handling cost more than SQLite's execution of it (0.08 against 0.02 ms).
    """
    seeds = " UNION ALL ".join(_FIRST_QUEUE.format(i=i) for i in range(endpoints))
    per_queue = [_PER_QUEUE[dialect].format(rows=_LANE.format(lane=lane)) for lane in (LANE_PRIORITY, LANE_NORMAL)]
    per_queue.append(_PER_QUEUE[dialect].format(rows=_HEAD) + " AND d.next_attempt_at <= :now")
    parts = [f"SELECT {_COLUMNS} {rows}" for rows in per_queue]
    if dialect == "postgresql":
        parts.append(_LEASED.format(ids=", ".join(f":e{i}" for i in range(endpoints))))
    sql = (f"WITH RECURSIVE queues(endpoint_id, session_id) AS ({seeds} UNION ALL {_NEXT_QUEUE}) "
           + " UNION ALL ".join(parts))
    return re.sub(r":(\w+)", r"%(\1)s", sql) if dialect == "postgresql" else sql


def _stored_time(value) -> datetime | None:
    """A UTCDateTime column as the driver returns it (SQLite: text) -> aware UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC)


def _queue_candidates(db: DbSession, free: dict[str, int], now: datetime) -> tuple[list[Candidate], dict[str, int]]:
    """Every queue's candidates at the endpoints with free slots (each lane's first due, each ordered head),
    and on PostgreSQL each endpoint's leased deliveries ({endpoint id: count}).

    One statement per UNION_CHUNK endpoints. Only waiting rows have a `next_attempt_at` (a claim
    clears it) and the index holds only those, so the walk and the lane scans read a few entries
    per queue, never a queue's whole backlog, whatever the size of the delivery log.
    """
    endpoint_ids, rows, leased = list(free), [], {}
    connection = db.connection()
    dialect = "postgresql" if connection.dialect.name == "postgresql" else "sqlite"
    stored_now = now.astimezone(UTC).replace(tzinfo=None)  # as UTCDateTime stores it
    if dialect == "sqlite":
        stored_now = stored_now.strftime("%Y-%m-%d %H:%M:%S.%f")
    for start in range(0, len(endpoint_ids), UNION_CHUNK):
        chunk = endpoint_ids[start:start + UNION_CHUNK]
        # Each lane's first n, n the most free slots of an endpoint here (under load usually 1).
        params = {"now": stored_now, "n": max(free[endpoint_id] for endpoint_id in chunk),
                  **{f"e{i}": endpoint_id for i, endpoint_id in enumerate(chunk)}}
        for row in connection.exec_driver_sql(_queues_sql(len(chunk), dialect), params):
            if row[3] == LEASED_LANE:
                leased[row[1]] = row[5]
            else:
                rows.append(Candidate(*row[:4], _stored_time(row[4]), row[5], row[6], row[7], _stored_time(row[8])))
    return rows, leased


@lru_cache(maxsize=UNION_CHUNK)
def _due_statement(endpoints: int):
    """The previous claim's read: `endpoints` per-endpoint due scans in one UNION ALL (bench comparison only)."""
    columns = _DELIVERIES.c
    parts = [select(select(columns.id, columns.endpoint_id, columns.session_id, columns.event_id,
                           columns.next_attempt_at, columns.attempts, columns.delivered_at)
                    .where(columns.endpoint_id == bindparam(f"e{i}"), columns.next_attempt_at <= bindparam("now"),
                           columns.status.in_(CLAIMABLE))
                    .order_by(columns.next_attempt_at).limit(bindparam(f"n{i}")).subquery())
             for i in range(endpoints)]
    return union_all(*parts) if endpoints > 1 else parts[0]


def _due(db: DbSession, free: dict[str, int], now: datetime) -> list:
    """The previous claim: each endpoint's oldest due deliveries, up to its free slots (bench comparison only)."""
    endpoint_ids, rows = list(free), []
    for start in range(0, len(endpoint_ids), UNION_CHUNK):
        chunk = endpoint_ids[start:start + UNION_CHUNK]
        params = {"now": now}
        for i, endpoint_id in enumerate(chunk):
            params[f"e{i}"], params[f"n{i}"] = endpoint_id, free[endpoint_id]
        rows += db.execute(_due_statement(len(chunk)), params).all()
    return rows


def _jobs(db: DbSession, rows: list, targets: dict[str, Target], bodies: dict[str, bytes],
          lease_until: datetime) -> list[Job]:
    """Jobs for claimed deliveries; envelopes not in `bodies` are read (and serialised) once per event."""
    loaded = event_bodies(db, {row.event_id for row in rows if row.event_id not in bodies})
    jobs = []
    for row in rows:
        target = targets[row.endpoint_id]
        body = delivered_body(target.kind, target.events, bodies.get(row.event_id) or loaded[row.event_id])
        jobs.append(Job(row.id, row.endpoint_id, row.event_id, target.url, target.secret, dict(target.headers), body,
                        row.attempts, row.delivered_at, lease_until, row.session_id))
    return jobs


def event_bodies(db: DbSession, event_ids: set[str]) -> dict[str, bytes]:
    """{event id: its envelope as sent} for these events."""
    if not event_ids:
        return {}
    columns = [Event.id, Event.seq, Event.type, Event.session_id, Event.timestamp, Event.sandbox, Event.data]
    return {row.id: Event(**row._mapping).envelope_json().encode()
            for row in db.execute(select(*columns).where(Event.id.in_(event_ids)))}


def next_due(db: DbSession, now: datetime) -> datetime | None:
    """When the next retry falls due (ix_deliveries_retry; other waiting deliveries are due at once)."""
    return db.scalar(select(Delivery.next_attempt_at).where(text(RETRYING_SQL), Delivery.next_attempt_at > now)
                     .order_by(Delivery.next_attempt_at).limit(1))


def save_results(db: DbSession, results: list[Result], schedule: list[float]) -> None:
    """Record each attempt, apply the retry policy, update endpoint health (one transaction).

    A claimed delivery disappears only with its endpoint (deliveries cascade), so results whose
    endpoint row is gone are dropped.
    """
    rows = db.execute(_HEALTH, {"ids": list({r.job.endpoint_id for r in results})}).all()
    enabled = {row.endpoint_id: row.enabled for row in rows}
    health = {row.endpoint_id: {"endpoint_id": row.endpoint_id, "last_success_at": row.last_success_at,
                                "last_failure_at": row.last_failure_at,
                                "consecutive_failures": row.consecutive_failures} for row in rows}
    changes, attempts, gone = [], [], {}
    for result in results:
        job, endpoint_id = result.job, result.job.endpoint_id
        if endpoint_id not in health:  # removed while the POST was in flight
            continue
        decision = decide(job.attempts + 1, result.status_code, schedule, result.ended_at, result.retry_after)
        if decision.status == DeliveryStatus.RETRYING and not enabled[endpoint_id]:
            decision = Decision(DeliveryStatus.DEAD)
        end = AttemptEnd(decision.status, job.attempts + 1, result.ended_at, result.status_code, result.error,
                         retry_in=decision.delay, delivered_at=job.delivered_at)
        changes.append({"delivery_id": job.delivery_id, "claimed_lease": job.lease_until,
                        **Delivery.after_attempt(end)})
        attempts.append({"delivery_id": job.delivery_id, "at": result.at, "status_code": result.status_code,
                         "success": decision.status == DeliveryStatus.DELIVERED, "latency_ms": result.latency_ms,
                         "error": result.error, "response": result.response})
        delivered = decision.status == DeliveryStatus.DELIVERED
        health[endpoint_id] = Endpoint.health_after(health[endpoint_id], delivered, result.at)
        if decision.disable and enabled[endpoint_id]:
            gone.setdefault(endpoint_id, result.at)
    if changes:  # three executemany statements for the whole batch
        db.execute(_SAVE_DELIVERY, changes)
        db.execute(insert(Attempt.__table__), attempts)
        db.execute(_SAVE_HEALTH, list(health.values()))
    for endpoint_id, at in gone.items():
        disable_endpoint(db, db.get(Endpoint, endpoint_id),
                         f"the receiver answered 410 Gone at {at:%Y-%m-%d %H:%M:%S} UTC")


_ENDPOINTS = Endpoint.__table__
_HEALTH = (select(_ENDPOINTS.c.id.label("endpoint_id"), _ENDPOINTS.c.enabled, _ENDPOINTS.c.last_success_at,
                  _ENDPOINTS.c.last_failure_at, _ENDPOINTS.c.consecutive_failures)
           .where(_ENDPOINTS.c.id.in_(bindparam("ids", expanding=True))))
# Only under the lease the job was claimed with: once a lease expired and the delivery was claimed
# again, the late outcome of the first POST must not overwrite the newer one (its attempt is logged).
_SAVE_DELIVERY = update(_DELIVERIES).where(_DELIVERIES.c.id == bindparam("delivery_id"),
                                           _DELIVERIES.c.status == DeliveryStatus.DELIVERING,
                                           _DELIVERIES.c.lease_until == bindparam("claimed_lease"))
# Health columns only: the fan-out cache of endpoints (hub/delivery/fanout.py) stays valid.
_SAVE_HEALTH = (update(_ENDPOINTS).where(_ENDPOINTS.c.id == bindparam("endpoint_id"))
                .execution_options(**{HEALTH_ONLY: True}))


def disable_endpoint(db: DbSession, endpoint: Endpoint, reason: str) -> None:
    """Stop sending to `endpoint`: its waiting deliveries become dead (replayable once re-enabled)."""
    endpoint.disable(reason)
    db.execute(update(Delivery).where(Delivery.endpoint_id == endpoint.id, Delivery.status.in_(CLAIMABLE))
               .values(status=DeliveryStatus.DEAD, next_attempt_at=None, last_error=f"endpoint disabled: {reason}")
               .execution_options(synchronize_session=False))
    log.warning("endpoint %s disabled: %s", endpoint.url, reason, extra={"endpointId": endpoint.id})


def release_leases(db: DbSession, now: datetime, expired_only: bool = True) -> int:
    """Make claimed deliveries claimable again: those whose lease expired, or all (start-up)."""
    statement = update(Delivery).where(Delivery.status == DeliveryStatus.DELIVERING)
    if expired_only:
        statement = statement.where(Delivery.lease_until < now)
    status = case((Delivery.attempts == 0, DeliveryStatus.PENDING), else_=DeliveryStatus.RETRYING)
    result = db.execute(statement.values(status=status, lease_until=None, next_attempt_at=now)
                        .execution_options(synchronize_session=False))
    return result.rowcount


def purge_events(db: DbSession, cutoff: datetime, batch: int = 500) -> int:
    """Delete up to `batch` events older than `cutoff` whose deliveries all succeeded (cascades)."""
    unfinished = exists().where(Delivery.event_id == Event.id, Delivery.status != DeliveryStatus.DELIVERED)
    ids = db.scalars(select(Event.id).where(Event.timestamp < cutoff, ~unfinished).limit(batch)).all()
    if ids:
        db.execute(delete(Event).where(Event.id.in_(ids)))
    return len(ids)
