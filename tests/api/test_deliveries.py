"""Delivery log: list with filters and pagination, detail with attempts, replay one and bulk, stats."""
from datetime import timedelta

from sqlalchemy import update

from hub.store import Delivery, utcnow

URL = "http://127.0.0.1:9/hook"


def setup_deliveries(client, hub, session_id, count=3):
    listener = client.post("/api/whatsapp/register-listener", json={"callbackUrl": URL,
                                                                     "events": ["message-received"]}).json["listener"]
    for n in range(count):
        hub.events.record("message-received", session_id, {"text": str(n)})
    return listener


def test_list_filter_and_paginate(client, hub, sandbox_session):
    listener = setup_deliveries(client, hub, sandbox_session)
    page = client.get("/api/deliveries", query_string={"limit": 2, "status": "pending"}).json
    assert page["total"] == 3 and len(page["deliveries"]) == 2 and page["limit"] == 2
    assert page["deliveries"][0]["endpointId"] == listener["id"]
    assert client.get("/api/deliveries", query_string={"status": "dead"}).json["total"] == 0
    assert client.get("/api/deliveries", query_string={"sessionId": "other"}).json["total"] == 0
    future = (utcnow() + timedelta(minutes=1)).isoformat()
    assert client.get("/api/deliveries", query_string={"since": future}).json["total"] == 0
    assert client.get("/api/deliveries", query_string={"status": "lost"}).status_code == 400
    assert client.get("/api/deliveries", query_string={"since": "yesterday"}).status_code == 400


def test_detail_has_attempt_log_and_event(client, hub, sandbox_session):
    setup_deliveries(client, hub, sandbox_session, count=1)
    [delivery] = client.get("/api/deliveries").json["deliveries"]
    detail = client.get(f"/api/deliveries/{delivery['id']}").json
    assert detail["delivery"]["attemptLog"] == [] and detail["event"]["id"] == delivery["eventId"]
    assert client.get("/api/deliveries/dlv_nope").status_code == 404


def test_replay_single(client, hub, sandbox_session):
    setup_deliveries(client, hub, sandbox_session, count=1)
    with hub.store.session() as db:
        db.execute(update(Delivery).values(status="dead", attempts=10, next_attempt_at=None))
    [delivery] = client.get("/api/deliveries").json["deliveries"]
    replayed = client.post(f"/api/deliveries/{delivery['id']}/replay").json["delivery"]
    assert replayed["status"] == "pending" and replayed["attempts"] == 0 and replayed["nextAttemptAt"]
    with hub.store.session() as db:
        db.execute(update(Delivery).values(status="delivering"))
    assert client.post(f"/api/deliveries/{delivery['id']}/replay").status_code == 409


def test_replay_bulk_by_endpoint_status_and_range(client, hub, sandbox_session):
    listener = setup_deliveries(client, hub, sandbox_session)
    with hub.store.session() as db:
        db.execute(update(Delivery).values(status="dead"))
    since, until = (utcnow() - timedelta(minutes=5)).isoformat(), (utcnow() + timedelta(minutes=5)).isoformat()
    body = {"endpointId": listener["id"], "status": "dead", "since": since, "until": until}
    assert client.post("/api/deliveries/replay", json=body).json == {"success": True, "count": 3, "truncated": False}
    assert client.get("/api/deliveries", query_string={"status": "pending"}).json["total"] == 3
    assert client.post("/api/deliveries/replay", json=body).json["count"] == 0
    assert client.post("/api/deliveries/replay", json={**body, "until": since}).status_code == 400
    assert client.post("/api/deliveries/replay", json={**body, "endpointId": "ep_nope"}).status_code == 404
    assert client.post("/api/deliveries/replay", json={"endpointId": listener["id"]}).status_code == 400


def test_stats_buckets(client):
    reply = client.get("/api/deliveries/stats", query_string={"minutes": 5}).json
    assert len(reply["buckets"]) == 5 and reply["buckets"][-1]["delivered"] == 0
    assert client.get("/api/deliveries/stats", query_string={"minutes": 0}).status_code == 400
