"""The dispatcher's claim on a real database (SQLite file and a throwaway PostgreSQL): fairness, lanes, order.

No receiver and no dispatcher thread: events are recorded through the event log (fan-out writes
their deliveries), `outbox.claim` leases them and `outbox.save_results` records made-up outcomes.
"""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from hub.app import create_app
from hub.config import Config
from hub.delivery import outbox
from hub.store import Delivery, utcnow
from tests.delivery.conftest import add_listener

LEASE = timedelta(seconds=60)


@pytest.fixture(params=["sqlite", "postgresql"])
def context(request, tmp_path):
    """The hub's services on a fresh SQLite file or PostgreSQL database (nothing started)."""
    overrides = {"database_url": request.getfixturevalue("pg_url")} if request.param == "postgresql" else {}
    app = create_app(Config.for_tests(tmp_path, retry_schedule=[60], **overrides))
    yield app.extensions["hub"]
    app.extensions["hub"].store.writes.stop()
    app.extensions["hub"].store.dispose()


def record(context, session_id: str, count: int, event_type: str = "message-received") -> list[str]:
    """Record `count` events of one session; their ids."""
    return [context.events.record(event_type, session_id, {"text": f"{session_id}{n}"})["id"] for n in range(count)]


class Dispatcher:
    """What the dispatcher keeps between rounds: its POSTs in flight (4 per endpoint)."""

    def __init__(self, context):
        self.context, self.in_flight = context, outbox.InFlight()

    def claim(self, slots: int = 64, at=None) -> list[outbox.Job]:
        with self.context.store.session() as db:
            jobs = outbox.claim(db, slots, 4, self.in_flight, at or utcnow(), LEASE)
        for job in jobs:
            self.in_flight.add(job)
        return jobs

    def finish(self, job: outbox.Job, status_code: int = 200, at=None) -> None:
        """Save one outcome (200: delivered; 500: retried after the schedule's 60 s, then dead)."""
        with self.context.store.session() as db:
            outbox.save_results(db, [outbox.Result(job, at or utcnow(), status_code, 1.0)], [60])
        self.in_flight.remove(job)


def test_a_flooded_session_gets_no_more_slots_than_a_quiet_one(context):
    add_listener(context, "http://127.0.0.1:9/hook")
    flood = record(context, "A", 30)
    dispatcher = Dispatcher(context)
    first = dispatcher.claim()
    assert [job.event_id for job in first] == flood[:4]  # alone, A gets the four slots, oldest first
    quiet = record(context, "B", 3)
    dispatcher.finish(first[0])
    assert [job.event_id for job in dispatcher.claim()] == [quiet[0]]  # B's event is next, not A's 5th
    dispatcher.finish(first[1])
    assert [job.event_id for job in dispatcher.claim()] == [quiet[1]]  # B (1 in flight) before A (2)
    dispatcher.finish(first[2])
    assert [job.event_id for job in dispatcher.claim()] == [flood[4]]  # 2 each: A's oldest due goes first


def test_free_slots_are_shared_round_robin_oldest_first_per_session(context):
    add_listener(context, "http://127.0.0.1:9/hook")
    a, b, c = record(context, "A", 10), record(context, "B", 10), record(context, "C", 1)
    jobs = Dispatcher(context).claim()
    assert sorted(job.event_id for job in jobs) == sorted([a[0], b[0], c[0], a[1]])


def test_session_status_and_qr_go_before_the_message_backlog(context):
    add_listener(context, "http://127.0.0.1:9/hook")
    record(context, "A", 10)
    status = record(context, "A", 1, "session-status")
    qr = record(context, "B", 1, "qr")
    jobs = Dispatcher(context).claim()
    assert {job.event_id for job in jobs[:2]} == {status[0], qr[0]}


def test_an_ordered_endpoint_sends_one_event_per_session_at_a_time_in_seq_order(context):
    add_listener(context, "http://127.0.0.1:9/hook", ordered=True)
    a = record(context, "A", 3) + record(context, "A", 1, "session-status")  # no priority lane when ordered
    b = record(context, "B", 2)
    dispatcher = Dispatcher(context)
    first = dispatcher.claim()
    assert sorted(job.event_id for job in first) == sorted([a[0], b[0]])
    assert dispatcher.claim() == []  # each session's head is in flight
    by_event = {job.event_id: job for job in first}
    dispatcher.finish(by_event[a[0]])
    assert [job.event_id for job in dispatcher.claim()] == [a[1]]


def test_a_failing_event_holds_back_the_later_ones_until_it_is_dead(context):
    add_listener(context, "http://127.0.0.1:9/hook", ordered=True)
    a = record(context, "A", 3)
    b = record(context, "B", 2)
    dispatcher = Dispatcher(context)
    jobs = {job.event_id: job for job in dispatcher.claim()}
    dispatcher.finish(jobs[a[0]], 500)  # failed: retried in 60 s
    dispatcher.finish(jobs[b[0]])
    assert [job.event_id for job in dispatcher.claim()] == [b[1]]  # A's later events wait for its head
    later = utcnow() + timedelta(seconds=90)
    retry = dispatcher.claim(at=later)
    assert [job.event_id for job in retry] == [a[0]]  # the head again, alone
    dispatcher.finish(retry[0], 500, at=later)  # the schedule is exhausted: dead
    assert [job.event_id for job in dispatcher.claim(at=later)] == [a[1]]  # dead releases the next one


def test_ordered_applies_from_the_next_event(context):
    listener = add_listener(context, "http://127.0.0.1:9/hook")
    before = record(context, "A", 3)
    add_listener(context, "http://127.0.0.1:9/hook", ordered=True)
    after = record(context, "A", 2)
    jobs = Dispatcher(context).claim()
    # The three recorded before go side by side; the first ordered one waits for nothing before it.
    assert sorted(job.event_id for job in jobs) == sorted([*before, after[0]])
    assert listener["ordered"] is False


def test_a_session_with_nothing_in_flight_takes_the_spare_slot_when_another_holds_all_four(context):
    add_listener(context, "http://127.0.0.1:9/hook")
    a = record(context, "A", 10)
    dispatcher = Dispatcher(context)
    first = dispatcher.claim()
    assert len(first) == 4  # alone, A never takes the spare slot
    b, c = record(context, "B", 2), record(context, "C", 1)
    assert [job.event_id for job in dispatcher.claim()] == [b[0]]  # not behind A's four POSTs: the fifth slot
    assert dispatcher.claim() == []  # one spare only: C waits, and B's second event too
    dispatcher.finish(first[0])
    assert [job.event_id for job in dispatcher.claim()] == [c[0]]  # the freed slot: C has none in flight
    dispatcher.finish(first[1])
    assert dispatcher.claim() == []  # four in flight (A 2, B 1, C 1): the spare is for a session with none
    dispatcher.finish(first[2])
    assert [job.event_id for job in dispatcher.claim()] == [a[4]]  # one each: the oldest goes first


def test_an_endpoint_at_its_cap_leaves_the_other_endpoints_their_slots(context):
    busy = add_listener(context, "http://127.0.0.1:9/busy")
    record(context, "A", 10)
    dispatcher = Dispatcher(context)
    assert len(dispatcher.claim()) == 4
    other = add_listener(context, "http://127.0.0.1:9/other")
    fresh = record(context, "A", 1)  # for both listeners: the busy one has no slot for A
    assert [(job.endpoint_id, job.event_id) for job in dispatcher.claim()] == [(other["id"], fresh[0])]
    assert busy["id"] != other["id"]


def test_concurrent_claims_never_lease_a_delivery_twice_nor_two_heads_of_an_ordered_queue(context):
    add_listener(context, "http://127.0.0.1:9/plain")
    add_listener(context, "http://127.0.0.1:9/ordered", ordered=True)
    for session_id in "ABCD":
        record(context, session_id, 15)
    claimed, lock = [], threading.Lock()

    def claimer():
        dispatcher = Dispatcher(context)  # a process of its own: it knows only its own POSTs
        for _ in range(15):
            jobs = dispatcher.claim(3)
            with lock:
                claimed.extend(jobs)

    threads = [threading.Thread(target=claimer) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = [job.delivery_id for job in claimed]
    assert len(ids) == len(set(ids)) > 0
    with context.store.session() as db:
        ordered_in_flight = db.execute(select(Delivery.session_id).where(
            Delivery.lane == 2, Delivery.status == "delivering")).scalars().all()
    assert sorted(ordered_in_flight) == sorted(set(ordered_in_flight))  # at most one per session


# -- several processes on PostgreSQL: each `Dispatcher` below is a process of its own ----------------
@pytest.fixture
def pg_context(tmp_path, pg_url):
    """The hub's services on a fresh PostgreSQL database (nothing started)."""
    app = create_app(Config.for_tests(tmp_path, retry_schedule=[60], database_url=pg_url))
    yield app.extensions["hub"]
    app.extensions["hub"].store.writes.stop()
    app.extensions["hub"].store.dispose()


def in_thread(work, timeout: float = 5.0):
    """`work()`'s result from another thread (a transaction of its own); fails when it blocks."""
    result = []
    thread = threading.Thread(target=lambda: result.append(work()), daemon=True)
    thread.start()
    thread.join(timeout)
    assert result, f"blocked for {timeout} s"
    return result[0]


def test_an_endpoints_cap_counts_the_posts_of_every_process(pg_context):
    add_listener(pg_context, "http://127.0.0.1:9/hook")
    record(pg_context, "A", 10)
    first, second = Dispatcher(pg_context), Dispatcher(pg_context)
    jobs = first.claim()
    assert len(jobs) == 4
    assert second.claim() == []  # the first process's four POSTs fill the endpoint's cap of 4
    first.finish(jobs[0])
    assert len(second.claim()) == 1
    assert first.claim() == []


def test_a_claim_never_waits_for_another_processs_round_nor_claims_beside_it(pg_context):
    add_listener(pg_context, "http://127.0.0.1:9/hook")
    for session_id in "ABC":
        record(pg_context, session_id, 4)
    first = Dispatcher(pg_context)
    assert len(first.claim(2)) == 2  # A's two oldest, committed
    with pg_context.store.session() as db:  # the first process's next round, not committed yet: B's and C's
        assert len(outbox.claim(db, 2, 4, first.in_flight, utcnow(), LEASE)) == 2
        # Unserialised, this read would see two free slots and claim A's third: five in flight.
        assert in_thread(Dispatcher(pg_context).claim) == []
    assert Dispatcher(pg_context).claim() == []  # committed: the endpoint's four are in flight


def test_a_claim_skips_the_rows_another_transaction_holds(pg_context):
    add_listener(pg_context, "http://127.0.0.1:9/hook")
    events = record(pg_context, "A", 6)
    with pg_context.store.session() as db:  # e.g. a lease sweep or an endpoint being disabled
        db.execute(select(Delivery.id).where(Delivery.event_id.in_(events[:2])).with_for_update()).all()
        jobs = in_thread(Dispatcher(pg_context).claim)  # without SKIP LOCKED: blocked until that commits
    assert [job.event_id for job in jobs] == events[2:4]  # of this round's four candidates, the free two
