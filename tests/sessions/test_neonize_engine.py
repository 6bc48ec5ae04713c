"""The neonize engine's lifecycle, driven by real neonize events through a real client's handlers,
and by real (failing: WhatsApp is unreachable here) dials into the Go library."""
from __future__ import annotations

import logging

import gevent
import pytest
from neonize.proto import Neonize_pb2 as N
from sqlalchemy import select

from hub.backoff import Backoff
from hub.sessions import builders
from hub.store import Event
from tests.sessions.neonize_helpers import add_linked_device, go_delivers, go_shows_qr, live_neonize_engine, wait_until


@pytest.fixture
def manager(hub):
    hub.sessions.backoff = Backoff(base=0.2)  # retries every few tenths of a second instead of seconds
    return hub.sessions


def statuses(hub, session_id: str) -> list[dict]:
    with hub.store.session() as db:
        rows = db.scalars(select(Event).where(Event.session_id == session_id, Event.type == "session-status")
                          .order_by(Event.seq))
        return [row.data for row in rows]


def dns_down(manager, session_id: str) -> dict | None:
    view = manager.get(session_id)
    return view if view["status"] == "disconnected" and view["reconnect"]["nextRetryAt"] else None


def test_failed_dial_is_disconnected_with_dns_reason_and_backoff(hub, manager):
    manager.create("offline", engine="neonize")
    assert manager.start("offline")["status"] == "starting"
    view = wait_until(lambda: (v := dns_down(manager, "offline")) and v["reconnect"]["attempts"] >= 3 and v)
    assert view["lastError"].startswith("dns_error: cannot resolve web.whatsapp.com")
    # Retries keep the status (and its reason); they do not add an event per attempt.
    assert [s["status"] for s in statuses(hub, "offline")] == ["starting", "disconnected"]
    assert (manager.store_dir("offline") / "whatsapp.db").exists()  # whatsmeow created its store
    assert not manager.has_credentials("offline")  # ... but nothing is linked in it
    assert manager.stop("offline")["reconnect"]["nextRetryAt"] is None


def test_logged_out_event_deletes_the_store_and_stops_retrying(hub, manager):
    manager.create("shop", engine="neonize")
    manager.start("shop")
    wait_until(lambda: dns_down(manager, "shop"))
    store = manager.store_dir("shop") / "whatsapp.db"
    add_linked_device(store)
    assert manager.has_credentials("shop")
    client = manager.engine_of("shop").prepare().client

    go_delivers(client, builders.logged_out_event(N.LOGGED_OUT))

    view = wait_until(lambda: (v := manager.get("shop"))["status"] == "logged_out" and v)
    assert view["lastError"] == "logged_out (401)" and view["reconnect"]["nextRetryAt"] is None
    assert not store.exists() and not manager.has_credentials("shop")
    assert not manager.is_running("shop")
    attempts = view["reconnect"]["attempts"]
    gevent.sleep(1.0)  # several backoff periods: nothing dials again
    assert manager.get("shop")["reconnect"]["attempts"] == attempts
    assert statuses(hub, "shop")[-1] == {"status": "logged_out", "previous": "disconnected",
                                         "reason": "logged_out (401)"}


def test_qr_pair_success_and_connected_through_the_handlers(hub, manager):
    engine, client = live_neonize_engine(hub, "link")
    go_shows_qr(client, b"2@abc,def,ghi")
    wait_until(lambda: manager.get("link")["status"] == "qr")
    assert manager.qr("link")["qr"] == "2@abc,def,ghi"
    paired = builders.pair_success_event("51911122233@s.whatsapp.net", "Tienda Lima")
    paired.ID.Device = 4  # the linked device's own JID: 51911122233:4@s.whatsapp.net
    go_delivers(client, paired)
    go_delivers(client, builders.connected_event())
    view = wait_until(lambda: (v := manager.get("link"))["status"] == "connected" and v)
    assert (view["jid"], view["phone"]) == ("51911122233@s.whatsapp.net", "51911122233")
    assert view["pushName"] == "Tienda Lima"
    assert engine.connected
    with hub.store.session() as db:
        assert db.scalar(select(Event).where(Event.type == "qr")).data["qr"] == "2@abc,def,ghi"


@pytest.mark.parametrize("event,reason,retries", [
    (N.StreamReplaced(), "stream_replaced", False),
    (N.ClientOutdated(), "client_outdated", False),
    (N.TemporaryBan(Code=N.TemporaryBan.BLOCKED_BY_USERS, Expire=600), "temporary_ban", True),
    (N.Disconnected(status=True), "connection lost", True),
])
def test_trouble_events_have_their_own_visible_reasons(hub, manager, event, reason, retries):
    manager.backoff = Backoff(base=3600.0)  # the reconnect is scheduled, not run, during the test
    engine, client = live_neonize_engine(hub, "trouble")
    go_delivers(client, builders.connected_event())
    wait_until(lambda: manager.get("trouble")["status"] == "connected")
    go_delivers(client, event)
    view = wait_until(lambda: (v := manager.get("trouble"))["status"] == "disconnected" and v)
    assert view["lastError"].startswith(reason)
    assert (view["reconnect"]["nextRetryAt"] is not None) is retries
    assert manager.is_running("trouble") is retries
    assert not engine.connected


def test_temporary_ban_waits_until_it_expires(hub, manager):
    manager.backoff = Backoff(base=3600.0)
    _, client = live_neonize_engine(hub, "banned")
    go_delivers(client, N.TemporaryBan(Code=N.TemporaryBan.BLOCKED_BY_USERS, Expire=600))
    view = wait_until(lambda: (v := manager.get("banned"))["status"] == "disconnected" and v)
    assert view["lastError"] == "temporary_ban: BLOCKED_BY_USERS, expires in 600 s"
    assert view["reconnect"]["nextRetryAt"] > manager.get("banned")["updatedAt"]


def test_corrupt_store_is_logged_out_with_a_clear_reason_and_kept(hub, manager):
    manager.create("broken", engine="neonize")
    manager.create("healthy", engine="neonize")
    store = manager.store_dir("broken") / "whatsapp.db"
    store.parent.mkdir(parents=True)
    store.write_bytes(b"this is not an SQLite file" * 100)
    assert manager.has_credentials("broken")  # present (unreadable): start-up will try and say why
    manager.start("broken")
    manager.start("healthy")
    view = wait_until(lambda: (v := manager.get("broken"))["status"] == "logged_out" and v)
    assert view["lastError"].startswith("store_unreadable:") and "file is not a database" in view["lastError"]
    assert store.exists()  # kept: it may be restored from a backup
    assert not manager.is_running("broken")
    assert wait_until(lambda: dns_down(manager, "healthy"))  # the other session carries on


def test_a_failing_handler_is_logged_and_isolated_to_its_session(hub, manager, monkeypatch, caplog):
    _, sick = live_neonize_engine(hub, "sick")
    _, well = live_neonize_engine(hub, "well")
    record = hub.events.record

    def failing_for_sick(type, session_id, data, sandbox=False):
        if session_id == "sick" and data.get("text") == "boom":
            raise RuntimeError("handler exploded")
        return record(type, session_id, data, sandbox=sandbox)

    monkeypatch.setattr(hub.events, "record", failing_for_sick)
    from_customer = builders.MessageSpec(chat="51987654321@s.whatsapp.net")
    with caplog.at_level(logging.ERROR):
        go_delivers(sick, builders.message_event(builders.text_content("boom"), from_customer))
        go_delivers(well, builders.message_event(builders.text_content("fine"), from_customer))
        go_delivers(sick, builders.message_event(builders.text_content("after"), from_customer))

        def texts(session_id):
            with hub.store.session() as db:
                return [e.data["text"] for e in db.scalars(select(Event).where(Event.session_id == session_id))]
        wait_until(lambda: texts("sick") == ["after"] and texts("well") == ["fine"])
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert failures and all(getattr(r, "sessionId", None) == "sick" for r in failures)
    assert "handler exploded" in caplog.text


def test_a_message_that_arrives_as_its_dial_is_stopped_is_still_stored(hub, manager, monkeypatch):
    # whatsmeow acknowledges a message once the callback returns: WhatsApp never delivers it again.
    engine, client = live_neonize_engine(hub, "shop")
    post = engine.inbox.post

    def stopped_meanwhile(function, *args):  # the dial is stopped between the Go callback and the delivery
        if function == engine._deliver:
            engine.run += 1
        post(function, *args)
    monkeypatch.setattr(engine.inbox, "post", stopped_meanwhile)
    go_delivers(client, builders.message_event(builders.text_content("just in time"),
                                               builders.MessageSpec(chat="51987654321@s.whatsapp.net")))
    with hub.store.session() as db:
        texts = [event.data["text"] for event in db.scalars(select(Event).where(Event.session_id == "shop"))
                 if event.type == "message-received"]
    assert texts == ["just in time"]


def test_pairing_needs_a_qr_and_maps_errors(hub, manager):
    engine, client = live_neonize_engine(hub, "pairing")
    with pytest.raises(Exception) as refused:
        engine.pair("51911122233")
    assert getattr(refused.value, "status", None) == 409
