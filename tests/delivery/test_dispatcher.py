"""The dispatcher against real loopback receivers: signing, retries, 410, redirects, caps, leases."""
import threading
import time
from datetime import timedelta

from sqlalchemy import select
from standardwebhooks import Webhook

from hub.delivery import outbox
from hub.store import Delivery, Endpoint, utcnow
from tests.delivery.conftest import add_listener, wait_until
from tests.receivers import Receiver


def statuses(hub, endpoint_id):
    with hub.store.session() as db:
        return [d.status for d in db.scalars(select(Delivery).where(Delivery.endpoint_id == endpoint_id))]


def test_delivery_is_signed_and_verifiable(hub, sandbox_session, dispatcher):
    with Receiver() as receiver:
        listener = add_listener(hub, receiver.url, headers={"Authorization": "Bearer crm-token"})
        envelope = hub.events.record("message-received", sandbox_session, {"text": "hola"})
        wait_until(lambda: receiver.requests)
        request = receiver.requests[0]
        assert Webhook(listener["secret"]).verify(request["body"], request["headers"])["id"] == envelope["id"]
        assert request["headers"]["webhook-id"] == envelope["id"]
        assert request["headers"]["authorization"] == "Bearer crm-token"
        assert "x-api-key" not in request["headers"] and "test-key" not in str(request["headers"])
        wait_until(lambda: statuses(hub, listener["id"]) == ["delivered"])


def test_failure_then_recovery_keeps_the_webhook_id(hub, sandbox_session, dispatcher):
    with Receiver(lambda n, req: (500, {}, b"down") if n == 1 else (200, {}, b"ok")) as receiver:
        listener = add_listener(hub, receiver.url)
        hub.events.record("message-received", sandbox_session, {"text": "hola"})
        wait_until(lambda: statuses(hub, listener["id"]) == ["delivered"])
        ids = {r["headers"]["webhook-id"] for r in receiver.requests}
        assert len(receiver.requests) == 2 and len(ids) == 1


def test_schedule_exhausted_means_dead(hub, sandbox_session, dispatcher):
    with Receiver(lambda n, req: (302, {"Location": "http://example.com/"}, b"")) as receiver:
        listener = add_listener(hub, receiver.url)
        hub.events.record("message-received", sandbox_session, {"text": "hola"})
        wait_until(lambda: statuses(hub, listener["id"]) == ["dead"])
        assert len(receiver.requests) == 3  # first try + the two scheduled retries
        with hub.store.session() as db:
            delivery = db.scalar(select(Delivery))
            assert delivery.last_error == "HTTP 302 (redirects are not followed)"


def test_410_disables_the_endpoint_and_its_waiting_deliveries(hub, sandbox_session, dispatcher):
    with Receiver(lambda n, req: (410, {}, b"gone")) as receiver:
        listener = add_listener(hub, receiver.url)
        hub.events.record("message-received", sandbox_session, {"text": "1"})
        wait_until(lambda: statuses(hub, listener["id"]) == ["dead"])
        hub.events.record("message-received", sandbox_session, {"text": "2"})
        time.sleep(0.3)
        assert len(receiver.requests) == 1
        with hub.store.session() as db:
            endpoint = db.get(Endpoint, listener["id"])
            assert not endpoint.enabled and "410" in endpoint.disabled_reason


def test_hanging_endpoint_does_not_hold_up_a_healthy_one(hub, sandbox_session, dispatcher):
    release = threading.Event()
    with Receiver(lambda n, req: (release.wait(5), (200, {}, b"late"))[1]) as hanging, Receiver() as healthy:
        add_listener(hub, hanging.url)
        fast = add_listener(hub, healthy.url)
        started = time.monotonic()
        for n in range(20):
            hub.events.record("message-received", sandbox_session, {"text": str(n)})
        wait_until(lambda: statuses(hub, fast["id"]).count("delivered") == 20, timeout=3)
        assert time.monotonic() - started < 1.5
        assert len(hanging.requests) == 4  # the per-endpoint cap
        release.set()


def test_expired_lease_is_claimed_again(hub, sandbox_session):
    add_listener(hub, "http://127.0.0.1:9/x")
    hub.events.record("message-received", sandbox_session, {"text": "hola"})

    with hub.store.session() as db:
        jobs = outbox.claim(db, 10, 4, outbox.InFlight(), utcnow(), timedelta(seconds=-1))  # a crashed claim
        assert len(jobs) == 1
        assert outbox.claim(db, 10, 4, outbox.InFlight(), utcnow(), timedelta(seconds=30)) == []
        assert outbox.release_leases(db, utcnow()) == 1
        again = outbox.claim(db, 10, 4, outbox.InFlight(), utcnow(), timedelta(seconds=30))
        assert [job.delivery_id for job in again] == [jobs[0].delivery_id]


def test_retry_after_is_recorded_as_next_attempt(hub, sandbox_session, dispatcher):
    with Receiver(lambda n, req: (429, {"Retry-After": "60"}, b"slow down")) as receiver:
        listener = add_listener(hub, receiver.url)
        hub.events.record("message-received", sandbox_session, {"text": "hola"})
        wait_until(lambda: statuses(hub, listener["id"]) == ["failed"])
        with hub.store.session() as db:
            delivery = db.scalar(select(Delivery))
            assert 55 < (delivery.next_attempt_at - utcnow()).total_seconds() <= 60
            assert delivery.last_status_code == 429
