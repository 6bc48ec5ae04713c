"""Helpers for delivery tests against the real hub (tests/integration/hubproc.py)."""
from __future__ import annotations

from tests.integration.hubproc import HubProcess

FAST_RETRIES = {"HUB_RETRY_SCHEDULE": "1s,1s", "HUB_WEBHOOK_TIMEOUT": "3"}


def connected_session(hub: HubProcess, session_id: str = "shop") -> str:
    """Create a sandbox session and scan its QR."""
    assert hub.post("/api/sessions", json={"sessionId": session_id, "engine": "sandbox", "start": True}).status_code == 201
    assert hub.post(f"/api/sandbox/{session_id}/scan", json={}).status_code == 200
    return session_id


def listen(hub: HubProcess, url: str, **body) -> dict:
    """Register a listener; returns its Endpoint JSON (with the secret)."""
    reply = hub.post("/api/whatsapp/register-listener", json={"callbackUrl": url, **body})
    assert reply.status_code == 201, reply.text
    return reply.json()["listener"]


def inbound(hub: HubProcess, text: str, session_id: str = "shop") -> str:
    reply = hub.post(f"/api/sandbox/{session_id}/inbound", json={"from": "+51 999 111 222", "text": text})
    assert reply.status_code == 200, reply.text
    return reply.json()["messageId"]


def deliveries(hub: HubProcess, **filters) -> list[dict]:
    return hub.get("/api/deliveries", params={"limit": 500, **filters}).json()["deliveries"]


def texts(receiver) -> list[str]:
    """The message texts a receiver got, in arrival order."""
    return [event["data"].get("text") for event in receiver.events() if event["type"] == "message-received"]
