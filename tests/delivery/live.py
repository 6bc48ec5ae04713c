"""Helpers for delivery tests against the real hub (tests/integration/hubproc.py)."""
from __future__ import annotations

import threading
from queue import Empty

import requests

from tests.integration.hubproc import API_KEY, HubProcess

FAST_RETRIES = {"HUB_RETRY_SCHEDULE": "1s,1s", "HUB_WEBHOOK_TIMEOUT": "3"}


def connected_session(hub: HubProcess, session_id: str = "shop") -> str:
    """Create a sandbox session and scan its QR."""
    created = hub.post("/api/sessions", json={"sessionId": session_id, "engine": "sandbox", "start": True})
    assert created.status_code == 201
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


def flood(url: str, session_id: str, clients: int, stop, injected, wait: bool = True) -> None:
    """`clients` threads injecting the session's inbound messages back to back until `stop`; message ids to `injected`.

    `wait=False` answers once the simulated WhatsApp holds each message (the session takes them at
    its own pace afterwards, as from a phone), so the flood is not limited by the hub's ingest.

    Run it in a process of its own (multiprocessing, spawn): client threads in the process of a
    loopback receiver would take the GIL from it and measure the receiver instead of the hub.
    """
    def client():
        http = requests.Session()
        http.headers["X-API-Key"] = API_KEY
        while not stop.is_set():
            answer = http.post(f"{url}/api/sandbox/{session_id}/inbound", timeout=30,
                               json={"from": "51977000111", "text": "spam", "wait": wait})
            if answer.ok:  # the session may be stopped during the flood: later injections are refused
                injected.put(answer.json()["messageId"])
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def drain(queue) -> set[str]:
    """Everything put on a multiprocessing queue (until it stays empty for half a second)."""
    items = set()
    while True:
        try:
            items.add(queue.get(timeout=0.5))
        except Empty:
            return items
