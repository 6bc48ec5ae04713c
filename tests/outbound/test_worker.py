"""The queue worker (in threads here, greenlets under gunicorn): drains on connect, requeues at start."""
from __future__ import annotations

import time

from apscheduler.schedulers.background import BackgroundScheduler

from hub.outbound import worker
from hub.store import Outbound
from tests.outbound.helpers import sent


def wait_until(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_queue_drains_when_the_session_connects(client, hub):
    scheduler = BackgroundScheduler()
    worker.start(hub, scheduler)
    try:
        client.post("/api/sessions", json={"sessionId": "shop", "engine": "sandbox", "start": True})
        for n in range(3):
            assert client.post("/api/whatsapp/send", json={"to": "51987654321", "message": f"m{n}"}).status_code == 202
        time.sleep(0.2)
        assert sent(client) == []
        client.post("/api/sandbox/shop/scan", json={})
        assert wait_until(lambda: len(sent(client)) == 3)
        assert [m["text"] for m in sent(client)] == ["m0", "m1", "m2"]
    finally:
        worker.stop(hub)


def test_sends_cut_short_by_a_restart_go_back_to_the_queue(client, hub, sandbox_session):
    reply = client.post("/api/whatsapp/send", json={"to": "51987654321", "message": "x", "async": True}).get_json()
    with hub.store.session() as db:  # as if the process died mid-send
        db.query(Outbound).update({"status": "sending"})
    worker.start(hub, BackgroundScheduler())
    try:
        assert wait_until(lambda: len(sent(client)) == 1)
        assert wait_until(lambda: client.get(f"/api/outbound/{reply['id']}").get_json()["outbound"]["status"] == "sent")
    finally:
        worker.stop(hub)
