"""Large bodies against real gunicorn: refused ones are never held, and the worker's memory stays flat."""
from __future__ import annotations

from pathlib import Path

import requests

from tests.integration.hubproc import HubProcess

MB = 1024 * 1024
FIVE_MB_JSON = b'{"to": "x", "message": "' + b"x" * (5 * MB) + b'"}'
PUBLIC_AND_UNKNOWN = ["/api/health", "/uploads/1700000000000_0123456789abcdef.jpg", "/dashboard",
                      "/openapi.json", "/api-docs/swagger", "/", "/api/no-such-route", "/api/healthbot/webhook"]


def worker_rss(hub: HubProcess) -> int:
    """The gunicorn worker's resident memory in bytes (VmRSS of the master's child)."""
    status = Path(f"/proc/{hub.worker_pid()}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
    return int(line.split()[1]) * 1024


def post_raw(hub: HubProcess, path: str, body, **headers) -> requests.Response:
    return requests.post(hub.url + path, data=body, timeout=30,
                         headers={"Content-Type": "application/json", **headers})


def test_fifty_unauthenticated_five_megabyte_bodies_leave_the_worker_memory_flat(tmp_path):
    with HubProcess(tmp_path) as hub:
        for path in PUBLIC_AND_UNKNOWN:  # warm-up: every route's first-use caches
            post_raw(hub, path, b"{}")
        before = worker_rss(hub)
        statuses = {post_raw(hub, PUBLIC_AND_UNKNOWN[i % len(PUBLIC_AND_UNKNOWN)], FIVE_MB_JSON).status_code
                    for i in range(50)}
        grown = worker_rss(hub) - before
        assert grown < 50 * MB, f"worker RSS grew by {grown / MB:.0f} MB"
        assert statuses <= {401, 413}, statuses


def test_authenticated_bodies_answered_with_errors_are_not_kept(tmp_path):
    with HubProcess(tmp_path) as hub:
        key = {"X-API-Key": hub.http.headers["X-API-Key"]}
        post_raw(hub, "/api/whatsapp/send", FIVE_MB_JSON, **key)
        before = worker_rss(hub)
        for _ in range(20):  # a send route takes media-sized bodies; this one fails validation
            answer = post_raw(hub, "/api/whatsapp/send", FIVE_MB_JSON, **key)
            assert answer.status_code == 400 and answer.json()["error"] == "validation_error"
        grown = worker_rss(hub) - before
        assert grown < 50 * MB, f"worker RSS grew by {grown / MB:.0f} MB"


def test_a_chunked_body_over_the_route_limit_is_413(tmp_path):
    def chunks():
        for _ in range(3):
            yield b" " * MB

    with HubProcess(tmp_path) as hub:
        answer = hub.post("/api/sessions", data=chunks(), headers={"Content-Type": "application/json"})
        assert answer.status_code == 413 and answer.json()["error"] == "body_too_large"
        assert hub.get("/api/sessions").json()["sessions"] == []
