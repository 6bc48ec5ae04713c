"""Small queries the listener tests make against the live hub."""
from __future__ import annotations


def endpoint_of(hub, url: str, kind: str = "listener", session_id: str = "shop") -> dict | None:
    """The enabled listener or webhook the hub has for `url`, if any."""
    path = "/api/whatsapp/listeners" if kind == "listener" else f"/api/{session_id}/webhook"
    found = hub.get(path).json()[kind + "s"]
    return next((item for item in found if item["url"] == url and item["enabled"]), None)


def delivery_of(hub, endpoint_id: str, event_id: str) -> dict:
    deliveries = hub.get("/api/deliveries", params={"endpointId": endpoint_id}).json()["deliveries"]
    return next(item for item in deliveries if item["eventId"] == event_id)


def replay_and_wait(hub, delivery_id: str) -> dict:
    """Replay a delivery (same webhook-id) and wait until its second attempt succeeded."""
    assert hub.post(f"/api/deliveries/{delivery_id}/replay").status_code == 200

    def attempted_twice():
        body = hub.get(f"/api/deliveries/{delivery_id}").json()["delivery"]
        return body if body["status"] == "delivered" and len(body["attemptLog"]) == 2 else None
    return hub.wait_for(attempted_twice, timeout=15)


def event_id_of(hub, message_id: str) -> str:
    """The id of the message-received event of a sandbox message."""
    events = hub.get("/api/events", params={"type": "message-received", "sessionId": "shop"}).json()["events"]
    return next(event["id"] for event in events if event["data"]["messageId"] == message_id)
