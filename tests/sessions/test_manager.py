"""SessionManager: backoff, isolation of handler errors, restore at start-up."""
from __future__ import annotations

import logging

import pytest

from hub.app import create_app
from hub.errors import NotFound
from hub.sessions import builders
from hub.sessions.live import RECONNECT


def test_reconnect_delay_grows_exponentially_with_jitter_and_cap():
    assert RECONNECT.delay(1, rng=lambda: 0.5) == 2.0
    assert RECONNECT.delay(4, rng=lambda: 0.5) == 16.0
    assert RECONNECT.delay(30, rng=lambda: 0.5) == 300.0
    assert RECONNECT.delay(3, rng=lambda: 0.0) == pytest.approx(6.4)
    assert RECONNECT.delay(3, rng=lambda: 1.0) == pytest.approx(9.6)


def test_a_failing_event_in_one_session_is_logged_and_isolated(hub, client, caplog, monkeypatch):
    for name in ("a", "b"):
        client.post("/api/sessions", json={"sessionId": name, "engine": "sandbox", "start": True})
        client.post(f"/api/sandbox/{name}/scan", json={})
    original = hub.events.record

    def broken_for_a(type, session_id, data, sandbox=False):
        if session_id == "a" and type == "message-received":
            raise RuntimeError("disk full")
        return original(type, session_id, data, sandbox)

    monkeypatch.setattr(hub.events, "record", broken_for_a)
    event = builders.message_event(builders.text_content("hi"), builders.MessageSpec(chat="51999@s.whatsapp.net"))
    with caplog.at_level(logging.ERROR):
        hub.sessions.on_event("a", event)  # outside a request: logged, not raised
    assert "session a" in caplog.text and "disk full" in caplog.text
    hub.sessions.on_event("b", event)
    received = client.get("/api/events?type=message-received").get_json()["events"]
    assert [e["sessionId"] for e in received] == ["b"]
    assert hub.sessions.get("a")["status"] == "connected"


def test_restore_starts_sessions_with_credentials_only(config, client):
    client.post("/api/sessions", json={"sessionId": "linked", "engine": "sandbox", "start": True})
    client.post("/api/sandbox/linked/scan", json={})
    client.post("/api/sessions", json={"sessionId": "waiting", "engine": "sandbox", "start": True})
    fresh = create_app(config).extensions["hub"]  # a new process on the same files
    assert fresh.sessions.restore_all() == ["linked"]
    assert fresh.sessions.settled("linked", 10)["status"] == "connected"  # the dial runs in its own thread
    assert fresh.sessions.get("waiting")["status"] == "stopped"
    fresh.sessions.stop_all()


def test_session_views_are_cached_but_follow_every_change(hub):
    """get() answers from memory; a status change, a delete, or a caller's edit never leaves it stale."""
    hub.sessions.create("cached", engine="sandbox")
    view = hub.sessions.get("cached")
    view["status"] = "edited by a caller"
    assert hub.sessions.get("cached")["status"] == "stopped"
    hub.sessions.start("cached", settle=5)
    assert hub.sessions.get("cached")["status"] == "qr"
    hub.sessions.delete("cached")
    with pytest.raises(NotFound):
        hub.sessions.get("cached")
