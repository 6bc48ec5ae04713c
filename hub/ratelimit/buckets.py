"""Where the buckets live: in this process (SQLite: one process) or in the database (PostgreSQL: a cluster).

Both take one request against a bucket with `take(bucket_id, rate)` and apply the same GCRA step
(rate.py). The database keeps each bucket as one row updated by one atomic upsert, so several
hub processes share a caller's limit with no lock held between statements.
"""
from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError

from hub.ratelimit.rate import Decision, gcra_step
from hub.rates import RateLimit

log = logging.getLogger(__name__)

PRUNE_ABOVE = 10_000  # buckets kept in memory before full ones (tat in the past) are dropped


class MemoryBuckets:
    """The buckets of one process (SQLite runs exactly one)."""

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._tats: dict[str, float] = {}
        self._lock = threading.Lock()

    def take(self, bucket_id: str, rate: RateLimit) -> Decision:
        """One request against the bucket."""
        with self._lock:
            now = self._clock()
            decision, tat = gcra_step(self._tats.get(bucket_id), now, rate)
            if decision.allowed:
                self._tats[bucket_id] = tat
                if len(self._tats) > PRUNE_ABOVE:
                    self._prune(now)
            return decision

    def _prune(self, now: float) -> None:
        """Forget full buckets: one that was never seen behaves the same (many trusted addresses)."""
        self._tats = {bucket: tat for bucket, tat in self._tats.items() if tat > now}


# One statement: the row is created, or moved forward only when the tokens taken (`cost` seconds) fit.
_TAKE = """
INSERT INTO rate_buckets (id, tat) VALUES (:id, {now} + :cost)
ON CONFLICT (id) DO UPDATE SET tat = {greatest}(rate_buckets.tat, {now}) + :cost
WHERE {greatest}(rate_buckets.tat, {now}) + :cost - {now} <= :window + 1e-9
RETURNING tat
"""
_READ = "SELECT tat, {now} FROM rate_buckets WHERE id = :id"
# PostgreSQL's clock, one value per statement: every process then shares one clock (no skew between
# machines), and a statement that waited for the row's lock still compares with the time it started.
PG_NOW = "EXTRACT(EPOCH FROM statement_timestamp())::float8"
BATCH_SHARE = 10  # a process takes a tenth of the burst per round trip (50/s burst 100: 10 tokens)
PREPAID_SECONDS = 1.0  # unspent tokens lapse after this, or after the burst window when that is longer


class DatabaseBuckets:
    """The buckets in the `rate_buckets` table, shared by every process on the database.

    A process takes its tokens in batches (a tenth of the burst) and spends them locally, so most
    requests cost no round trip. Every token is charged to the shared row before it is spent, so
    the cluster never admits more than the limit (a burst may come at most one batch late per process);
    unspent tokens lapse after the burst window (at least a second).
    Each decision is one statement in autocommit (no BEGIN/COMMIT round trips). `now` is the
    database's (PG_NOW): a request that queued for a connection must not bring an older `now` than
    the requests that overtook it meanwhile (it would look like a burst and be refused).
    """

    def __init__(self, engine, clock=time.time):
        self.engine, self._clock = engine.execution_options(isolation_level="AUTOCOMMIT"), clock
        postgres = engine.dialect.name == "postgresql"  # elsewhere (tests on SQLite): the process's clock
        clock_sql = PG_NOW if postgres else ":now"
        self._take = text(_TAKE.format(greatest="GREATEST" if postgres else "MAX", now=clock_sql))
        self._read = text(_READ.format(now=clock_sql))
        self._prepaid: dict[str, tuple[int, float]] = {}  # bucket -> (tokens paid for, spendable until)
        self._lock = threading.Lock()

    def take(self, bucket_id: str, rate: RateLimit) -> Decision:
        """One request against the bucket: a prepaid token, else a batch (or, near the limit, one) from the row."""
        if self._spend_prepaid(bucket_id):
            return Decision(True)
        batch = max(1, rate.burst // BATCH_SHARE)
        decision = self._charge(bucket_id, rate, batch)
        if not decision.allowed and decision.retry_after == 0:  # the batch did not fit, one token does
            batch, decision = 1, self._charge(bucket_id, rate, 1)
        if decision.allowed and batch > 1:
            with self._lock:
                self._prepaid[bucket_id] = (batch - 1, self._clock() + max(rate.window, PREPAID_SECONDS))
        return decision

    def _spend_prepaid(self, bucket_id: str) -> bool:
        with self._lock:
            tokens, until = self._prepaid.get(bucket_id, (0, 0.0))
            if tokens <= 0 or until < self._clock():
                return False
            self._prepaid[bucket_id] = (tokens - 1, until)
            return True

    def _charge(self, bucket_id: str, rate: RateLimit, tokens: int) -> Decision:
        """Charge `tokens` to the bucket's row in one upsert; when they do not fit (one read), nothing is
        charged and the refusal says when one token would fit (0: now)."""
        try:
            with self.engine.connect() as connection:
                values = {"id": bucket_id, "now": self._clock(), "cost": tokens * rate.interval, "window": rate.window}
                if connection.execute(self._take, values).first() is not None:
                    return Decision(True)
                tat, now = connection.execute(self._read, values).one()
        except SQLAlchemyError as exc:  # the request itself will meet the outage; the limit must not 500 it
            log.warning("rate limit skipped: the database did not answer (%s)", exc.__class__.__name__)
            return Decision(True)
        one = gcra_step(tat, now, rate)[0]
        return Decision(False, 0.0 if one.allowed else one.retry_after)


def buckets_for(engine):
    """The database's buckets on PostgreSQL (a cluster shares them), the process's own elsewhere.

    On PostgreSQL the buckets get a small pool of their own, without the store's pre-ping (a
    `SELECT 1` round trip per checkout would double the limiter's cost; a dead connection costs
    one unlimited request, see `take`), and without waiting for the WAL flush of each upsert:
    a bucket a crash forgets is a full bucket, while an fsync per API request would cost more
    than the request.
    """
    if engine.dialect.name != "postgresql":
        return MemoryBuckets()
    buckets = create_engine(engine.url, pool_size=4, max_overflow=8, pool_timeout=10)
    event.listen(buckets, "connect", _no_flush_wait)
    return DatabaseBuckets(buckets)


def _no_flush_wait(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("SET synchronous_commit TO OFF")
    cursor.close()
    dbapi_connection.commit()
