"""Real neonize sessions in the real gunicorn gevent worker (offline: every dial fails on DNS)."""
from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from tests.integration.hubproc import HubProcess
from tests.sessions.neonize_helpers import add_linked_device

SESSIONS = 50


def views(hub: HubProcess, session_ids) -> dict[str, dict]:
    listed = hub.get("/api/sessions").json()["sessions"]
    return {view["sessionId"]: view for view in listed if view["sessionId"] in session_ids}


def all_retrying_on_dns(hub: HubProcess, session_ids, attempts: int = 1):
    """Every session `disconnected`, with a DNS reason and a scheduled retry (else None)."""
    current = views(hub, session_ids)
    ok = len(current) == len(session_ids) and all(
        view["status"] == "disconnected" and (view["lastError"] or "").startswith("dns_error:")
        and view["reconnect"]["attempts"] >= attempts and view["reconnect"]["nextRetryAt"]
        for view in current.values())
    return current if ok else None


def health_latencies(hub: HubProcess, count: int = 20) -> list[float]:
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        assert requests.get(hub.url + "/api/health", timeout=5).status_code == 200
        latencies.append(time.perf_counter() - started)
        time.sleep(0.05)
    return latencies


def in_parallel(function, items):
    with ThreadPoolExecutor(25) as pool:
        return list(pool.map(function, items))


def test_fifty_sessions_started_concurrently_retry_without_hurting_the_worker(tmp_path):
    with HubProcess(tmp_path, HUB_ENGINE="neonize") as hub:
        worker = hub.worker_pid()
        ids = [f"n{i:02d}" for i in range(SESSIONS)]
        created = in_parallel(lambda s: hub.post("/api/sessions", json={"sessionId": s, "start": True}), ids)
        assert {reply.status_code for reply in created} == {201}
        for round_number in range(3):
            if round_number:  # stop every session at once, then start them all again at once
                assert {r.status_code for r in in_parallel(lambda s: hub.post(f"/api/sessions/{s}/stop"), ids)} == {200}
                connected = in_parallel(lambda s: hub.post(f"/api/sessions/{s}/connect"), ids)
                assert {r.status_code for r in connected} == {200}
            hub.wait_for(lambda: all_retrying_on_dns(hub, ids), timeout=30, interval=0.2)
            latencies = health_latencies(hub)  # while the 50 sessions keep retrying
            assert max(latencies) < 0.1, latencies
        retried = hub.wait_for(lambda: all_retrying_on_dns(hub, ids, attempts=2), timeout=30, interval=0.2)
        assert len(retried) == SESSIONS
        assert hub.process.poll() is None and hub.worker_pid() == worker  # never crashed, never replaced
        assert "fatal error" not in hub.logs()


def test_pairing_code_needs_whatsapp_and_says_why_it_is_unreachable(tmp_path):
    with HubProcess(tmp_path, HUB_ENGINE="neonize") as hub:
        assert hub.post("/api/sessions", json={"sessionId": "pairme"}).status_code == 201
        assert hub.post("/api/sessions/pairme/pair", json={"phone": "12"}).status_code == 400
        reply = hub.post("/api/sessions/pairme/pair", json={"phone": "+51 911 122 233"})
        assert reply.status_code == 503, reply.text
        assert reply.json()["error"] == "pairing_unavailable" and "dns_error" in reply.json()["message"]


def test_restore_reconnects_linked_stores_at_start_up_and_isolates_a_corrupt_one(tmp_path):
    hub = HubProcess(tmp_path, HUB_ENGINE="neonize")
    linked = ["tienda", "reservas", "ventas"]
    with hub:
        for session_id in linked + ["unlinked", "broken"]:
            assert hub.post("/api/sessions", json={"sessionId": session_id, "start": True}).status_code == 201
        hub.wait_for(lambda: all_retrying_on_dns(hub, linked + ["unlinked", "broken"]), timeout=20)
    sessions_dir = tmp_path / "sessions"
    for session_id in linked:
        add_linked_device(sessions_dir / session_id / "whatsapp.db")  # as if its QR had been scanned
    (sessions_dir / "broken" / "whatsapp.db").write_bytes(os.urandom(50_000))

    with hub:  # restart: nobody calls connect; restore dials the linked ones by itself
        restored = hub.wait_for(lambda: all_retrying_on_dns(hub, linked), timeout=20)
        assert all(view["reconnect"]["attempts"] >= 1 for view in restored.values())
        broken = hub.wait_for(
            lambda: (v := hub.get("/api/sessions/broken").json()["session"])["status"] == "logged_out" and v)
        assert broken["lastError"].startswith("store_unreadable:")
        assert (sessions_dir / "broken" / "whatsapp.db").exists()
        unlinked = hub.get("/api/sessions/unlinked").json()["session"]
        assert unlinked["status"] == "stopped" and unlinked["reconnect"]["attempts"] == 0
        assert requests.get(hub.url + "/api/health").json()["status"] == "ok"
        assert all_retrying_on_dns(hub, linked)  # the corrupt store did not disturb the others
