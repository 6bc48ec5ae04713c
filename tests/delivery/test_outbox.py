"""Saving attempt outcomes: only under the lease they were claimed with; retries counted from the attempt's end.

On SQLite and on PostgreSQL: the lease is matched by equality, so it must survive each database's
timestamp round trip.
"""
from datetime import timedelta

import pytest
from sqlalchemy import select

from hub.config import Config
from hub.delivery import outbox
from hub.store import Attempt, Delivery, utcnow
from tests.delivery.conftest import add_listener
from tests.postgres import create_database


@pytest.fixture(params=["sqlite", "postgresql"])
def config(request, tmp_path):
    if request.param == "sqlite":
        return Config.for_tests(tmp_path)
    return Config.for_tests(tmp_path, database_url=create_database(request.getfixturevalue("postgres")))


def claim_one(hub, now, lease=timedelta(seconds=30)) -> outbox.Job:
    with hub.store.session() as db:
        [job] = outbox.claim(db, 10, 4, outbox.InFlight(), now, lease)
    return job


def save(hub, *results, schedule=(5.0,)) -> Delivery:
    with hub.store.session() as db:
        outbox.save_results(db, list(results), list(schedule))
    with hub.store.session() as db:
        delivery = db.scalar(select(Delivery))
        db.expunge(delivery)
        return delivery


def test_a_stale_worker_never_overwrites_a_newer_outcome(hub, sandbox_session):
    add_listener(hub, "http://127.0.0.1:9/x")
    hub.events.record("message-received", sandbox_session, {"text": "hola"})
    start = utcnow()
    stale = claim_one(hub, start, lease=timedelta(seconds=1))  # its POST hangs past the lease
    with hub.store.session() as db:
        assert outbox.release_leases(db, start + timedelta(seconds=2)) == 1
    fresh = claim_one(hub, start + timedelta(seconds=3))
    delivered = save(hub, outbox.Result(fresh, start + timedelta(seconds=3), 200, 12.0))
    assert delivered.status == "delivered"
    late = save(hub, outbox.Result(stale, start, None, 80_000.0, "ReadTimeout: the receiver dripped"))
    assert (late.status, late.attempts, late.delivered_at, late.next_attempt_at, late.last_error) == \
        ("delivered", 1, delivered.delivered_at, None, None)
    with hub.store.session() as db:  # the late attempt happened, so the log still shows it
        assert len(db.scalars(select(Attempt)).all()) == 2


def test_an_outcome_saved_under_its_own_lease_is_kept(hub, sandbox_session):
    add_listener(hub, "http://127.0.0.1:9/x")
    hub.events.record("message-received", sandbox_session, {"text": "hola"})
    job = claim_one(hub, utcnow())
    assert save(hub, outbox.Result(job, utcnow(), 503, 5.0, "HTTP 503")).status == "failed"


def test_the_retry_delay_counts_from_the_end_of_a_slow_attempt(hub, sandbox_session):
    add_listener(hub, "http://127.0.0.1:9/x")
    hub.events.record("message-received", sandbox_session, {"text": "hola"})
    start = utcnow()
    job = claim_one(hub, start)
    delivery = save(hub, outbox.Result(job, start, None, 10_000.0, "RequestTimedOut: 10 s"), schedule=(5.0,))
    waited = (delivery.next_attempt_at - start).total_seconds()
    assert delivery.status == "failed" and 10 + 5 * 0.8 <= waited <= 10 + 5 * 1.2  # 5 s ±20 % after the timeout
