"""The hub on PostgreSQL (HUB_DATABASE_URL=postgresql+psycopg://...): sends, group commit, inbound, gunicorn.

On the throwaway cluster of tests/postgres.py (fixtures `postgres` and `pg_url` in tests/conftest.py).
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from hub.app import create_app
from hub.config import Config
from hub.outbound import service
from hub.outbound.request import SendRequest
from tests.integration.hubproc import HubProcess

AUTH = {"X-API-Key": "test-key"}


@pytest.fixture
def pg_app(pg_url, tmp_path):
    """An app on a fresh PostgreSQL database."""
    app = create_app(Config.for_tests(tmp_path, database_url=pg_url))
    yield app
    app.extensions["hub"].store.writes.stop()
    app.extensions["hub"].sessions.stop_all()
    app.extensions["hub"].store.dispose()


def wait_for(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
    return result


def test_sends_inbound_receipts_and_history_on_postgresql(pg_app):
    client = pg_app.test_client()
    assert client.post("/api/sessions", json={"sessionId": "shop", "engine": "sandbox", "start": True},
                       headers=AUTH).status_code == 201
    assert client.post("/api/sandbox/shop/scan", json={}, headers=AUTH).status_code == 200
    sent = client.post("/api/whatsapp/send", json={"to": "+51 987 654 321", "message": "hola"}, headers=AUTH)
    assert sent.status_code == 200 and sent.get_json()["status"] == "sent"
    queued = client.post("/api/whatsapp/send", json={"to": "+51 987 654 321", "message": "luego", "async": True},
                         headers=AUTH)
    assert queued.status_code == 202
    assert client.post("/api/sandbox/shop/inbound", json={"from": "51911122233", "text": "gracias"},
                       headers=AUTH).status_code == 200
    wait_for(lambda: client.get("/api/events?type=message-read", headers=AUTH).get_json()["events"])
    history = client.get("/api/messages/shop", headers=AUTH).get_json()["messages"]
    assert sorted((m["direction"], m["text"], m["status"]) for m in history) == [
        ("in", "gracias", "received"), ("out", "hola", "read")]


def test_group_commit_on_postgresql_groups_writes_and_isolates_a_raced_key(pg_app):
    context = pg_app.extensions["hub"]
    client = pg_app.test_client()
    client.post("/api/sessions", json={"sessionId": "shop", "engine": "sandbox", "start": True}, headers=AUTH)
    client.post("/api/sandbox/shop/scan", json={}, headers=AUTH)
    context.store.writes.start()
    requests = [SendRequest(to="+51987654321", text=f"n{n}", session_id="shop") for n in range(20)]
    requests += [SendRequest(to="+51987654321", text="keyed", session_id="shop", idempotency_key="k1")] * 4
    answers = [None] * len(requests)

    def send(index):
        answers[index] = service.accept(context, requests[index])
    threads = [threading.Thread(target=send, args=(index,)) for index in range(len(requests))]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while any(thread.is_alive() for thread in threads) and time.monotonic() < deadline:
        time.sleep(0.01)  # gevent.sleep here (tests/conftest.py): the hub runs the engine's callbacks meanwhile
    assert {status for _, status in answers[:20]} == {200}
    assert len({body["id"] for body, _ in answers[20:]}) == 1  # one row for the key
    texts = sorted(m["text"] for m in context.sessions.simulator().phone.sent("shop"))
    assert texts == sorted([f"n{n}" for n in range(20)] + ["keyed"])
    assert context.store.writes.writes >= 2 * 21


def test_real_gunicorn_with_gevent_on_postgresql_sends_and_survives_kill_9(pg_url, tmp_path):
    # psycopg 3 cooperates with gevent by itself. The restarted process (another pid, so another node) takes the
    # session once the killed one's lease expires: a short TTL keeps that wait short.
    with HubProcess(tmp_path, HUB_DATABASE_URL=pg_url, HUB_LEASE_TTL="4s") as hub:
        hub.post("/api/sessions", json={"sessionId": "s", "engine": "sandbox", "start": True})
        hub.post("/api/sandbox/s/scan", json={})
        with ThreadPoolExecutor(max_workers=20) as pool:
            answers = list(pool.map(lambda n: hub.post("/api/whatsapp/send", json={"to": "+51987654321",
                                                                                   "message": f"n{n}"}), range(20)))
        assert {answer.status_code for answer in answers} == {200}
        hub.post("/api/sessions/s/stop")
        queued = hub.post("/api/whatsapp/send", json={"to": "+51987654321", "message": "after the crash"})
        assert queued.status_code == 202
        hub.kill()
    with hub:  # restored from PostgreSQL: the session reconnects and the queue drains
        hub.wait_for(lambda: len(hub.sandbox_sent("s")) == 21, timeout=30)
        # The simulated phone records the message before the hub settles the row: wait for the settle.
        hub.wait_for(lambda: hub.get(f"/api/outbound/{queued.json()['id']}").json()["outbound"]["status"] == "sent",
                     timeout=5)
