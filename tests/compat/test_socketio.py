"""Socket.IO at /socket.io/ under real gunicorn (gevent worker), with python-socketio's own client:
key checks at connect, `subscribe`, every event under its type name, websocket and polling."""
from __future__ import annotations

import time

import pytest
import socketio

from tests.compat.sio import Client
from tests.integration.hubproc import API_KEY, HubProcess


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    with HubProcess(tmp_path_factory.mktemp("hub")) as running:
        assert running.post("/api/sessions",
                            json={"sessionId": "shop", "engine": "sandbox", "start": True}).status_code == 201
        assert running.post("/api/sandbox/shop/scan", json={}).status_code == 200
        yield running


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_subscribed_client_gets_each_event_under_its_type_name(hub, transport):
    client = Client().connect(hub, transport, auth={"apiKey": API_KEY})
    try:
        assert client.sio.call("subscribe", {"sessionId": "shop"}, timeout=10) == {"success": True, "sessionId": "shop"}
        reply = hub.post("/api/sandbox/shop/inbound", json={"from": "51987654321", "text": f"hola por {transport}"})
        event = client.next("message-received")
        assert event["type"] == "message-received" and event["sessionId"] == "shop"
        assert event["data"]["messageId"] == reply.json()["messageId"]
        assert event["data"]["text"] == f"hola por {transport}"
        assert event["id"].startswith("evt_") and isinstance(event["seq"], int)
        hub.post("/api/whatsapp/send", json={"sessionId": "shop", "to": "51987654321", "message": "gracias"})
        assert client.next("message-sent")["data"]["to"] == "51987654321@s.whatsapp.net"
    finally:
        client.close()


def test_session_filter_and_all_sessions(hub):
    hub.post("/api/sessions", json={"sessionId": "caja", "engine": "sandbox"})
    one, every = Client().connect(hub, auth={"apiKey": API_KEY}), Client().connect(hub, auth={"apiKey": API_KEY})
    try:
        one.sio.call("subscribe", {"sessionId": "caja"}, timeout=10)
        every.sio.call("subscribe", timeout=10)
        every.sio.call("subscribe", "caja", timeout=10)  # overlapping subscriptions: still one copy per event
        hub.post("/api/sandbox/shop/inbound", json={"from": "51987654321", "text": "para shop"})
        hub.post("/api/sessions/caja/connect")
        assert every.next("message-received")["sessionId"] == "shop"
        status = one.next("session-status")
        assert status["sessionId"] == "caja" and status["data"]["status"] == "starting"
        assert one.next("qr")["data"]["qr"].startswith("2@")
        seen = [every.next("session-status")["id"], every.next("qr")["id"]]
        assert len(seen) == len(set(seen))
        assert all(event != "message-received" for event, _ in list(one.received.queue))
    finally:
        one.close()
        every.close()


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_key_in_the_query_string(hub, transport):
    keyed = Client()
    keyed.sio.connect(f"{hub.url}?apiKey={API_KEY}", transports=[transport], wait_timeout=10)
    assert keyed.sio.connected
    keyed.close()


@pytest.mark.parametrize("auth, code", [(None, "unauthorized"), ({"apiKey": "wrong"}, "forbidden")])
def test_connect_without_a_valid_key_is_refused_with_the_error_shape(hub, auth, code):
    client = Client()
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(hub, auth=auth)
    [refusal] = client.refusals  # the CONNECT_ERROR packet: {message, data} (err.message, err.data in JS)
    assert refusal["data"] == {"success": False, "error": code, "message": refusal["message"]}


def test_subscribe_to_an_unknown_session_is_an_error_event_and_the_connection_stays(hub):
    client = Client().connect(hub, auth={"apiKey": API_KEY})
    try:
        answer = client.sio.call("subscribe", {"sessionId": "nope"}, timeout=10)
        assert answer["error"] == "session_not_found"
        error = client.next("error")
        assert error == {"success": False, "error": "session_not_found", "message": error["message"]}
        assert "nope" in error["message"]
        assert client.sio.connected
        assert client.sio.call("subscribe", {"sessionId": "shop"}, timeout=10)["success"] is True
        hub.post("/api/sandbox/shop/inbound", json={"from": "51987654321", "text": "sigue"})
        assert client.next("message-received")["data"]["text"] == "sigue"
    finally:
        client.close()


def test_trusted_network_needs_no_key_unless_a_browser_comes_from_another_site(tmp_path):
    with HubProcess(tmp_path, HUB_TRUSTED_NETWORKS="127.0.0.1/32") as trusted:
        client = Client().connect(trusted)
        assert client.sio.connected
        client.close()
        # Polling: websocket-client repeats an Origin header it is given (a browser sends one).
        same_site = Client().connect(trusted, "polling", headers={"Origin": trusted.url})
        assert same_site.sio.connected
        same_site.close()
        foreign = Client()
        with pytest.raises(socketio.exceptions.ConnectionError):
            foreign.connect(trusted, "polling", headers={"Origin": "https://evil.example"})
        assert foreign.refusals[0]["data"]["error"] == "unauthorized"
        keyed = Client().connect(trusted, headers={"Origin": "https://crm.example"}, auth={"apiKey": API_KEY})
        assert keyed.sio.connected
        keyed.close()


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_a_connected_client_does_not_hold_up_a_restart(tmp_path, transport):
    with HubProcess(tmp_path) as running:
        client = Client().connect(running, transport, auth={"apiKey": API_KEY})
        client.sio.call("subscribe", timeout=10)
        started = time.monotonic()
        running.stop()
        # gunicorn waits up to graceful_timeout (20 s) for open requests; Socket.IO ones are ended at once.
        assert time.monotonic() - started < 10
        client.sio.sleep(0.5)
        assert not client.sio.connected
