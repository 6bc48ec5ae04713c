"""Sending through real gunicorn: send now, queue while offline, drain on connect, survive kill -9."""
from __future__ import annotations

import base64
import hashlib
import http.client
import re
from concurrent.futures import ThreadPoolExecutor

import requests

from tests.integration.hubproc import HubProcess
from tests.outbound.helpers import PDF, PNG


def texts_sent(hub: HubProcess, session_id: str = "s") -> list[str]:
    return [m["text"] for m in hub.sandbox_sent(session_id)]


def send(hub: HubProcess, text: str, **extra):
    return hub.post("/api/whatsapp/send", json={"to": "+51 987 654 321", "message": text, **extra.pop("body", {})},
                    **extra)


def connected_session(hub: HubProcess, session_id: str = "s") -> None:
    created = hub.post("/api/sessions", json={"sessionId": session_id, "engine": "sandbox", "start": True})
    assert created.status_code == 201
    assert hub.post(f"/api/sandbox/{session_id}/scan", json={}).status_code == 200


def test_queue_drains_on_connect_in_order_and_survives_a_crash(tmp_path):
    hub = HubProcess(tmp_path)
    with hub:
        connected_session(hub)
        now = send(hub, "now")
        assert now.status_code == 200 and now.json()["status"] == "sent"
        key = {"Idempotency-Key": "order-1"}
        assert send(hub, "once", headers=key).json() == send(hub, "once", headers=key).json()

        hub.post("/api/sessions/s/stop")
        queued = [send(hub, f"offline {n}") for n in range(3)]
        assert {r.status_code for r in queued} == {202}
        hub.post("/api/sessions/s/connect")  # credentials on disk: connects without a scan
        hub.wait_for(lambda: len(texts_sent(hub)) == 5)
        assert texts_sent(hub) == ["now", "once", "offline 0", "offline 1", "offline 2"]

        hub.post("/api/sessions/s/stop")
        ids = [send(hub, f"before crash {n}").json()["id"] for n in range(3)]
        hub.kill()  # kill -9: only what was committed survives
    with hub:  # the session is restored, the queue drains
        hub.wait_for(lambda: len(texts_sent(hub)) == 8, timeout=15)
        assert texts_sent(hub)[5:] == ["before crash 0", "before crash 1", "before crash 2"]
        states = [hub.get(f"/api/outbound/{i}").json()["outbound"]["status"] for i in ids]
        assert states == ["sent"] * 3
        sent_events = hub.get("/api/events", params={"type": "message-sent", "limit": 20}).json()["events"]
        assert {e["data"]["outboundId"] for e in sent_events} >= set(ids)
        hub.wait_for(lambda: hub.get("/api/events", params={"type": "message-read"}).json()["events"])


def test_a_message_queued_too_long_fails_with_an_event(tmp_path):
    with HubProcess(tmp_path, HUB_OUTBOUND_MAX_AGE="1s") as hub:
        hub.post("/api/sessions", json={"sessionId": "s", "engine": "sandbox"})
        outbound_id = send(hub, "never").json()["id"]
        failed = hub.wait_for(lambda: hub.get("/api/events", params={"type": "message-failed"}).json()["events"],
                              timeout=8)
        assert failed[0]["data"]["outboundId"] == outbound_id
        assert hub.get(f"/api/outbound/{outbound_id}").json()["outbound"]["status"] == "failed"


def test_inbound_media_is_served_publicly_with_the_same_bytes(tmp_path):
    with HubProcess(tmp_path) as hub:
        connected_session(hub)
        for data, mimetype in ((PNG, "image/png"), (PDF, "application/pdf")):
            media = {"base64": base64.b64encode(data).decode(), "mimetype": mimetype, "filename": "../x"}
            assert hub.post("/api/sandbox/s/inbound", json={"from": "51987654321", "media": media}).status_code == 200
            event = hub.get("/api/events", params={"type": "message-received"}).json()["events"][0]
            served = requests.get(event["data"]["media"]["fileUrl"], timeout=5)
            assert served.status_code == 200
            assert hashlib.sha256(served.content).hexdigest() == event["data"]["media"]["sha256"]
            assert served.headers["X-Content-Type-Options"] == "nosniff"
        failed = {"base64": base64.b64encode(PNG).decode(), "mimetype": "image/png", "failDownload": True}
        hub.post("/api/sandbox/s/inbound", json={"from": "51987654321", "media": failed})
        event = hub.get("/api/events", params={"type": "message-received"}).json()["events"][0]
        assert event["data"]["media"]["error"]
        for path in ("/uploads/../hub.db", "/uploads/..%2Fhub.db", "/uploads/%2e%2e%2fhub.key", "/uploads/..\\hub.db"):
            status, body = raw_get(hub, path)
            assert status in (401, 404) and b"SQLite" not in body, path  # unmatched paths are not public


def raw_get(hub: HubProcess, path: str) -> tuple[int, bytes]:
    """GET with the path exactly as written (HTTP clients would normalise the dots away)."""
    connection = http.client.HTTPConnection("127.0.0.1", hub.port, timeout=5)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_concurrent_sends_share_commits_and_a_raced_key_still_sends_once(tmp_path):
    with HubProcess(tmp_path) as hub:
        connected_session(hub)
        bodies = [(f"burst {n}", {}) for n in range(40)] + [("keyed", {"Idempotency-Key": "race-1"})] * 6
        with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
            answers = list(pool.map(lambda body: send(hub, body[0], headers=body[1]), bodies))
        assert {answer.status_code for answer in answers[:40]} == {200}
        # A retry racing the first request gets its id and state: 202 while it is still being sent.
        assert len({answer.json()["id"] for answer in answers[40:]}) == 1
        assert {answer.status_code for answer in answers[40:]} <= {200, 202}
        assert sorted(texts_sent(hub)) == sorted([f"burst {n}" for n in range(40)] + ["keyed"])
        history = hub.get("/api/messages/s", params={"limit": 100}).json()["messages"]
        assert len(history) == 41 and {m["status"] for m in history} <= {"sent", "delivered", "read"}
        sent_events = hub.get("/api/events", params={"type": "message-sent", "limit": 100}).json()["events"]
        assert len(sent_events) == 41
        metrics = hub.get("/metrics").text
        commits = float(re.search(r"^hub_db_group_commits_total (\S+)$", metrics, re.M).group(1))
        writes = float(re.search(r"^hub_db_group_writes_total (\S+)$", metrics, re.M).group(1))
        assert writes >= 2 * 41 and commits < writes  # two writes per send, several per commit
