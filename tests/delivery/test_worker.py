"""Scheduler jobs: start-up lease reclaim, lease sweep, event retention."""
from datetime import timedelta

from sqlalchemy import func, select, update

from hub.delivery import worker
from hub.scheduler import make_scheduler
from hub.store import Attempt, Delivery, Event, utcnow
from tests.delivery.conftest import add_listener


def count(hub, model, *where):
    with hub.store.session() as db:
        return db.scalar(select(func.count()).select_from(model).where(*where))


def age_everything(hub, days):
    with hub.store.session() as db:
        db.execute(update(Event).values(timestamp=utcnow() - timedelta(days=days)))


def test_retention_purges_only_fully_delivered_old_events(hub, sandbox_session):
    listener = add_listener(hub, "http://127.0.0.1:9/x")
    delivered = hub.events.record("message-received", sandbox_session, {"text": "done"})
    waiting = hub.events.record("message-received", sandbox_session, {"text": "still failing"})
    with hub.store.session() as db:
        db.execute(update(Delivery).where(Delivery.event_id == delivered["id"]).values(status="delivered"))
        db.execute(update(Delivery).where(Delivery.event_id == waiting["id"]).values(status="dead"))
        db.add(Attempt(delivery_id=db.scalar(select(Delivery.id).where(Delivery.event_id == delivered["id"]))))
    age_everything(hub, 31)
    fresh = hub.events.record("message-received", sandbox_session, {"text": "new"})
    assert worker.purge_events(hub) >= 1
    with hub.store.session() as db:
        remaining = set(db.scalars(select(Event.id)))
    assert delivered["id"] not in remaining
    assert {waiting["id"], fresh["id"]} <= remaining
    assert count(hub, Delivery, Delivery.endpoint_id == listener["id"]) == 2
    assert count(hub, Attempt) == 0


def test_start_reclaims_the_previous_process_claims_and_stop_ends_the_loop(hub, sandbox_session):
    add_listener(hub, "http://127.0.0.1:9/x")
    hub.events.record("message-received", sandbox_session, {"text": "hola"})
    with hub.store.session() as db:
        db.execute(update(Delivery).values(status="delivering", lease_until=utcnow() + timedelta(hours=1)))
    scheduler = make_scheduler()
    worker.start(hub, scheduler)
    try:
        assert {job.id for job in scheduler.get_jobs()} == {"delivery-sweep", "event-retention"}
        later = utcnow() + timedelta(minutes=5)
        assert count(hub, Delivery, Delivery.status == "delivering", Delivery.lease_until > later) == 0
    finally:
        worker.stop(hub)
    assert hub.dispatcher is None


def test_sweep_releases_only_expired_leases(hub, sandbox_session):
    add_listener(hub, "http://127.0.0.1:9/a")
    add_listener(hub, "http://127.0.0.1:9/b")
    hub.events.record("message-received", sandbox_session, {"text": "hola"})
    with hub.store.session() as db:
        first, second = db.scalars(select(Delivery.id)).all()
        claimed = update(Delivery).values(status="delivering")
        db.execute(claimed.where(Delivery.id == first).values(lease_until=utcnow() - timedelta(seconds=1)))
        db.execute(claimed.where(Delivery.id == second).values(lease_until=utcnow() + timedelta(minutes=1)))
    assert worker.sweep_leases(hub) == 1
    assert count(hub, Delivery, Delivery.status == "delivering") == 1
