"""A scoped key under real gunicorn: its listeners, WebSocket and Socket.IO streams get only its sessions' events."""
from __future__ import annotations

import json

import pytest
import websocket

from tests.compat.sio import Client
from tests.integration.hubproc import HubProcess
from tests.receivers import Receiver

SESSIONS = ("shop", "other")


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    with HubProcess(tmp_path_factory.mktemp("hub")) as running:
        for session_id in SESSIONS:
            created = running.post("/api/sessions", json={"sessionId": session_id, "engine": "sandbox", "start": True})
            assert created.status_code == 201
            assert running.post(f"/api/sandbox/{session_id}/scan", json={}).status_code == 200
        yield running


@pytest.fixture(scope="module")
def key(hub) -> str:
    created = hub.post("/api/keys", json={"name": "shop bot", "sessions": ["shop"]})
    assert created.status_code == 201, created.text
    return created.json()["key"]["key"]


def inbound(hub: HubProcess, session_id: str, text: str) -> str:
    answer = hub.post(f"/api/sandbox/{session_id}/inbound", json={"from": "51987654321", "text": text})
    assert answer.status_code == 200, answer.text
    return answer.json()["messageId"]


def test_a_listener_registered_with_a_scoped_key_gets_only_its_sessions_events(hub, key):
    with Receiver() as scoped, Receiver() as admin:
        mine = hub.post("/api/whatsapp/register-listener", json={"callbackUrl": scoped.url},
                        headers={"X-API-Key": key})
        assert mine.status_code == 201 and mine.json()["listener"]["scope"] == ["shop"]
        assert hub.post("/api/whatsapp/register-listener", json={"callbackUrl": admin.url}).status_code == 201
        sent = [inbound(hub, session_id, f"para {session_id}") for session_id in ("other", "shop", "other")]
        hub.wait_for(lambda: len(admin.events()) == 3)
        hub.wait_for(lambda: scoped.events())
        assert [event["data"]["messageId"] for event in admin.events()] == sent
        assert [(event["sessionId"], event["data"]["messageId"]) for event in scoped.events()] == [("shop", sent[1])]
        listed = hub.get("/api/whatsapp/listeners", headers={"X-API-Key": key}).json()["listeners"]
        assert [listener["url"] for listener in listed] == [scoped.url]
        assert len(hub.get("/api/whatsapp/listeners").json()["listeners"]) == 2
        deliveries = hub.get("/api/deliveries", headers={"X-API-Key": key}).json()["deliveries"]
        assert [delivery["url"] for delivery in deliveries] == [scoped.url]


def test_the_websocket_event_stream_of_a_scoped_key_carries_only_its_sessions(hub, key):
    ticket = hub.post("/api/ws-ticket", headers={"X-API-Key": key}).json()["ticket"]
    streams = [websocket.create_connection(f"ws://127.0.0.1:{hub.port}/ws/events?{query}", timeout=10)
               for query in (f"ticket={ticket}", f"apiKey={key}")]
    try:
        inbound(hub, "other", "no para ti")
        expected = inbound(hub, "shop", "para ti")
        for ws in streams:
            event = json.loads(ws.recv())
            assert (event["sessionId"], event["data"]["messageId"]) == ("shop", expected)
    finally:
        for ws in streams:
            ws.close()


def test_socket_io_clients_of_a_scoped_key_see_only_its_sessions(hub, key):
    client = Client().connect(hub, auth={"apiKey": key})
    try:
        assert client.sio.call("subscribe", timeout=10) == {"success": True, "sessionId": None}
        refused = client.sio.call("subscribe", {"sessionId": "other"}, timeout=10)
        assert refused["error"] == "session_not_found"
        inbound(hub, "other", "no para ti")
        expected = inbound(hub, "shop", "para ti")
        event = client.next("message-received")
        assert (event["sessionId"], event["data"]["messageId"]) == ("shop", expected)
    finally:
        client.close()


def test_deleting_the_key_removes_its_listeners(hub):
    created = hub.post("/api/keys", json={"name": "short-lived", "sessions": ["shop"]}).json()["key"]
    with Receiver() as receiver:
        headers = {"X-API-Key": created["key"]}
        assert hub.post("/api/whatsapp/register-listener", json={"callbackUrl": receiver.url},
                        headers=headers).status_code == 201
        assert hub.delete(f"/api/keys/{created['id']}").status_code == 200
        listeners = hub.get("/api/whatsapp/listeners").json()["listeners"]
        assert receiver.url not in [listener["url"] for listener in listeners]
        assert hub.get("/api/whatsapp/listeners", headers=headers).status_code == 403
