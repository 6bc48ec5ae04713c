"""Fan-out: the event and one delivery per matching endpoint are committed together."""
import pytest
from sqlalchemy import select

from hub.store import Delivery, Endpoint, Event
from tests.delivery.conftest import add_listener


def deliveries(hub):
    with hub.store.session() as db:
        return [(d.endpoint_id, d.event_type, d.status) for d in db.scalars(select(Delivery))]


def test_one_delivery_per_matching_endpoint(hub, sandbox_session):
    everything = add_listener(hub, "http://127.0.0.1:9/all")
    messages = add_listener(hub, "http://127.0.0.1:9/msg", events=["message-received"])
    other_session = add_listener(hub, "http://127.0.0.1:9/other", session_id=None, events=["qr"])
    hub.events.record("message-received", sandbox_session, {"text": "hola"})
    rows = deliveries(hub)
    assert sorted(endpoint for endpoint, _, _ in rows) == sorted([everything["id"], messages["id"]])
    assert {status for _, _, status in rows} == {"pending"}
    assert other_session["id"] not in {endpoint for endpoint, _, _ in rows}


def test_session_scoped_listener_only_gets_its_session(hub, client, sandbox_session):
    assert client.post("/api/sessions", json={"sessionId": "other", "engine": "sandbox"}).status_code == 201
    scoped = add_listener(hub, "http://127.0.0.1:9/scoped", session_id="other")
    hub.events.record("message-received", sandbox_session, {"text": "hola"})
    assert deliveries(hub) == []
    hub.events.record("message-received", "other", {"text": "hola"})
    assert [endpoint for endpoint, _, _ in deliveries(hub)] == [scoped["id"]]


def test_endpoints_registered_later_get_no_older_events(hub, sandbox_session):
    hub.events.record("message-received", sandbox_session, {"text": "before"})
    add_listener(hub, "http://127.0.0.1:9/late")
    assert deliveries(hub) == []


def test_event_and_deliveries_roll_back_together(hub, sandbox_session):
    add_listener(hub, "http://127.0.0.1:9/all")
    hub.events.add_hook(lambda db, event: (_ for _ in ()).throw(RuntimeError("disk full")))
    with pytest.raises(RuntimeError):
        hub.events.record("message-received", sandbox_session, {"text": "lost together"})
    with hub.store.session() as db:
        assert db.scalars(select(Event).where(Event.type == "message-received")).all() == []
    assert deliveries(hub) == []


def test_cached_endpoints_follow_every_change(hub, sandbox_session):
    """The in-memory endpoint list is reloaded after re-registration, disabling and removal."""
    from hub.delivery import endpoints, outbox

    listener = add_listener(hub, "http://127.0.0.1:9/a", events=["qr"])
    hub.events.record("message-received", sandbox_session, {"text": "filtered out"})
    assert deliveries(hub) == []
    add_listener(hub, "http://127.0.0.1:9/a", events=["message-received"])  # re-registered: new filter
    hub.events.record("message-received", sandbox_session, {"text": "1"})
    assert len(deliveries(hub)) == 1
    with hub.store.session() as db:
        outbox.disable_endpoint(db, db.get(Endpoint, listener["id"]), "test")
    hub.events.record("message-received", sandbox_session, {"text": "2"})
    assert len(deliveries(hub)) == 1
    add_listener(hub, "http://127.0.0.1:9/a", events=["message-received"])  # re-enabled
    hub.events.record("message-received", sandbox_session, {"text": "3"})
    assert len(deliveries(hub)) == 2
    assert endpoints.unregister_listener(hub, "http://127.0.0.1:9/a") == 1
    hub.events.record("message-received", sandbox_session, {"text": "4"})
    assert deliveries(hub) == []
