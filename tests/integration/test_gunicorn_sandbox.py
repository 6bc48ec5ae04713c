"""The real hub (gunicorn + gevent) driven over HTTP and WebSocket with a sandbox session."""
from __future__ import annotations

import json

import websocket

from tests.integration.hubproc import API_KEY, HubProcess


def ws_messages(hub: HubProcess, session_id: str, on_qr):
    """Open /ws/session/<id>?engine=sandbox, call on_qr(code) at the QR, return every message."""
    url = f"ws://127.0.0.1:{hub.port}/ws/session/{session_id}?engine=sandbox&apiKey={API_KEY}"
    ws = websocket.create_connection(url, timeout=10)
    messages = []
    try:
        while True:
            try:
                raw = ws.recv()
            except websocket.WebSocketConnectionClosedException:
                break
            if not raw:
                break
            message = json.loads(raw)
            messages.append(message)
            if message["event"] == "qr":
                on_qr(message["data"])
    finally:
        ws.close()
    return messages


def test_websocket_creates_session_shows_qr_and_closes_once_connected(tmp_path):
    with HubProcess(tmp_path) as hub:
        scanned = []
        messages = ws_messages(hub, "tienda", lambda qr: scanned.append(hub.post("/api/sandbox/tienda/scan", json={})))
        assert [m["event"] for m in messages] == ["status", "qr", "status"]
        assert messages[0]["data"] == "initializing"
        assert messages[1]["data"].startswith("2@")
        assert messages[2]["data"] == "connected"
        assert scanned[0].status_code == 200

        again = ws_messages(hub, "tienda", lambda qr: None)
        assert again == [{"event": "status", "data": "already_connected"}]

        reply = hub.post("/api/sandbox/tienda/inbound",
                         json={"from": "+51 999 111 222", "text": "hola", "pushName": "Ana"})
        assert reply.status_code == 200, reply.text
        message_id = reply.json()["messageId"]
        events = hub.get("/api/events", params={"type": "message-received"}).json()["events"]
        assert events[0]["data"]["messageId"] == message_id
        assert events[0]["data"]["from"] == "51999111222@s.whatsapp.net"
        assert events[0]["data"]["text"] == "hola"
        assert events[0]["sandbox"] is True


def test_restart_restores_linked_session_connected(tmp_path):
    hub = HubProcess(tmp_path)
    with hub:
        assert hub.post("/api/sessions",
                        json={"sessionId": "s1", "engine": "sandbox", "start": True}).status_code == 201
        assert hub.post("/api/sandbox/s1/scan", json={}).status_code == 200
        assert hub.post("/api/sessions",
                        json={"sessionId": "unlinked", "engine": "sandbox", "start": True}).status_code == 201
    with hub:
        status = hub.wait_for(lambda: hub.get("/api/sessions/s1").json()["session"]["status"] == "connected")
        assert status
        assert hub.get("/api/sessions/unlinked").json()["session"]["status"] == "stopped"
        reply = hub.post("/api/sandbox/s1/inbound", json={"from": "51999111222", "text": "after restart"})
        assert reply.status_code == 200


def test_health_and_docs_are_public_api_needs_key(tmp_path):
    with HubProcess(tmp_path) as hub:
        import requests

        assert requests.get(hub.url + "/api/health").json()["status"] == "ok"
        assert requests.get(hub.url + "/api-docs/swagger").status_code == 200
        assert "paths" in requests.get(hub.url + "/openapi.json").json()
        assert requests.get(hub.url + "/api/sessions").status_code == 401
        assert requests.get(hub.url + "/api/sessions", headers={"Authorization": "Bearer nope"}).status_code == 403
        authorized = {"Authorization": f"Bearer {API_KEY}"}
        assert requests.get(hub.url + "/api/sessions", headers=authorized).status_code == 200
