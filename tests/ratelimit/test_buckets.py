"""The two homes of the buckets: one process's memory, and the rate_buckets table (SQLite here; PostgreSQL in
tests/integration/test_rate_limits.py)."""
from __future__ import annotations

import pytest
from sqlalchemy import event

from hub.ratelimit.buckets import DatabaseBuckets, MemoryBuckets
from hub.rates import RateLimit
from hub.store import Store


class Clock:
    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "database"])
def buckets_and_clock(request, tmp_path):
    clock = Clock()
    if request.param == "memory":
        yield MemoryBuckets(clock), clock
        return
    store = Store(f"sqlite:///{tmp_path / 'hub.db'}")
    store.migrate()
    yield DatabaseBuckets(store.engine, clock), clock
    store.dispose()


def test_each_bucket_holds_its_burst_and_refills_at_its_rate(buckets_and_clock):
    buckets, clock = buckets_and_clock
    rate = RateLimit(20, 1.0, 5)
    assert [buckets.take("admin-1", rate).allowed for _ in range(6)] == [True] * 5 + [False]
    refused = buckets.take("admin-1", rate)
    assert refused.retry_after == pytest.approx(0.05)
    assert buckets.take("admin-2", rate).allowed  # another caller's bucket is untouched
    clock.now += 0.1
    assert [buckets.take("admin-1", rate).allowed for _ in range(3)] == [True, True, False]


def test_the_database_bucket_is_one_row_shared_by_every_process(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'hub.db'}")
    store.migrate()
    clock = Clock()
    first, second = DatabaseBuckets(store.engine, clock), DatabaseBuckets(store.engine, clock)
    rate = RateLimit(1, 1.0, 4)
    answers = [(first if index % 2 else second).take("key_a", rate).allowed for index in range(8)]
    assert answers == [True] * 4 + [False] * 4
    store.dispose()


def test_memory_forgets_full_buckets_when_many_addresses_came_by(monkeypatch):
    monkeypatch.setattr("hub.ratelimit.buckets.PRUNE_ABOVE", 10)
    clock = Clock()
    buckets = MemoryBuckets(clock)
    for index in range(10):
        buckets.take(f"addr:10.0.0.{index}", RateLimit(1, 1.0, 1))
    clock.now += 5
    buckets.take("addr:10.0.0.99", RateLimit(1, 1.0, 1))
    assert list(buckets._tats) == ["addr:10.0.0.99"]


def test_processes_take_tokens_in_batches_yet_the_cluster_admits_exactly_the_limit(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'hub.db'}")
    store.migrate()
    clock = Clock()
    first, second = DatabaseBuckets(store.engine, clock), DatabaseBuckets(store.engine, clock)
    rate = RateLimit(10, 1.0, 40)  # batches of 4
    statements = []
    event.listen(store.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    answers = [(first if index % 2 else second).take("key_a", rate).allowed for index in range(60)]
    assert answers.count(True) == 40 and answers[-10:] == [False] * 10
    charged = [statement for statement in statements if "INSERT INTO rate_buckets" in statement]
    assert len(charged) <= 10 + 20  # 40 tokens in batches of 4, then one try per refusal
    clock.now += 1.05  # 10.5 tokens back: two batches of 4, then single ones
    assert [first.take("key_a", rate).allowed for _ in range(12)].count(True) == 10
    store.dispose()


def test_prepaid_tokens_lapse_after_one_burst_window(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'hub.db'}")
    store.migrate()
    clock = Clock()
    buckets = DatabaseBuckets(store.engine, clock)
    rate = RateLimit(1, 1.0, 20)  # batches of 2, a 20-second window (longer than PREPAID_SECONDS)
    assert buckets.take("key_a", rate).allowed  # one spent, one prepaid
    clock.now += 21
    assert not buckets._spend_prepaid("key_a")
    store.dispose()
