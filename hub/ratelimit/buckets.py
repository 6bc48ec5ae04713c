"""Where the buckets live: in this process (SQLite: one process) or in the database (PostgreSQL: a cluster).

Both take one request against a bucket with `take(bucket_id, rate)` and apply the same GCRA step
(rate.py). The database keeps each bucket as one row updated by one atomic upsert, so several
hub processes share a caller's limit with no lock held between statements.
"""
from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import text
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


# One statement: the row is created full-minus-one, or moved forward only when the request fits.
_TAKE = """
INSERT INTO rate_buckets (id, tat) VALUES (:id, :now + :interval)
ON CONFLICT (id) DO UPDATE SET tat = {greatest}(rate_buckets.tat, :now) + :interval
WHERE {greatest}(rate_buckets.tat, :now) + :interval - :now <= :window + 1e-9
RETURNING tat
"""
_READ = text("SELECT tat FROM rate_buckets WHERE id = :id")


class DatabaseBuckets:
    """The buckets in the `rate_buckets` table, shared by every process on the database."""

    def __init__(self, engine, clock=time.time):
        self.engine, self._clock = engine, clock
        greatest = "GREATEST" if engine.dialect.name == "postgresql" else "MAX"
        self._take = text(_TAKE.format(greatest=greatest))

    def take(self, bucket_id: str, rate: RateLimit) -> Decision:
        """One request against the bucket: one upsert (and one read when refused)."""
        now = self._clock()
        values = {"id": bucket_id, "now": now, "interval": rate.interval, "window": rate.window}
        try:
            with self.engine.begin() as connection:
                if connection.execute(self._take, values).first() is not None:
                    return Decision(True)
                tat = connection.scalar(_READ, {"id": bucket_id})
        except SQLAlchemyError as exc:  # the request itself will meet the outage; the limit must not 500 it
            log.warning("rate limit skipped: the database did not answer (%s)", exc.__class__.__name__)
            return Decision(True)
        return gcra_step(tat, now, rate)[0]


def buckets_for(engine):
    """The database's buckets on PostgreSQL (a cluster shares them), the process's own elsewhere."""
    return DatabaseBuckets(engine) if engine.dialect.name == "postgresql" else MemoryBuckets()
