"""Bodies are read only after routing and the key check, within each route's limit, and must be JSON objects."""
from __future__ import annotations

import base64
import gc
import io
import json
import tracemalloc

import pytest
from werkzeug.test import EnvironBuilder

from hub.app import create_app
from hub.config import Config
from tests.conftest import AUTH


class UnreadableBody(io.RawIOBase):
    """A request body that fails the test if anything reads it."""

    def readable(self):
        return True

    def readinto(self, buffer):
        raise AssertionError("the body was read")


def open_unread(app, method: str, path: str, headers: dict | None = None):
    environ = {"wsgi.input": UnreadableBody(), "CONTENT_TYPE": "application/json",
               "CONTENT_LENGTH": str(5 * 1024 * 1024)}
    return app.test_client().open(path, method=method, headers=headers or {}, environ_overrides=environ)


@pytest.mark.parametrize("method,path,headers,status", [
    ("POST", "/api/sessions", {}, 401),
    ("POST", "/api/sessions", {"X-API-Key": "wrong"}, 403),
    ("POST", "/api/no-such-route", AUTH, 404),
    ("PUT", "/api/sessions", AUTH, 405),
    ("POST", "/api/health", {}, 401),  # no POST route there: not public
    ("POST", "/uploads/1700000000000_0123456789abcdef.jpg", {}, 401),
    ("POST", "/api/sessions", AUTH, 413),
])
def test_refused_requests_never_read_the_body(app, method, path, headers, status):
    assert open_unread(app, method, path, headers).status_code == status


def test_json_over_one_megabyte_is_413_with_the_limit(client, hub):
    response = client.post("/api/sessions", json={"sessionId": "big", "description": "x" * (1024 * 1024)})
    body = response.get_json()
    assert response.status_code == 413 and body["error"] == "body_too_large" and "1 MB" in body["message"]
    assert body["limit"] == 1024 * 1024
    assert client.get("/api/sessions").get_json()["sessions"] == []


def test_send_routes_take_media_up_to_the_media_limit(tmp_path):
    app = create_app(Config.for_tests(tmp_path, max_media_mb=2))
    client = app.test_client()
    client.post("/api/sessions", json={"sessionId": "shop", "engine": "sandbox"}, headers=AUTH)
    file = base64.b64encode(b"%PDF-" + b"x" * (1536 * 1024)).decode()  # 2 MB of base64: over the JSON limit
    accepted = client.post("/api/whatsapp/send", headers=AUTH, json={
        "sessionId": "shop", "to": "51987654321", "media": {"base64": file, "mimetype": "application/pdf"}})
    assert accepted.status_code == 202, accepted.get_json()
    too_big = base64.b64encode(b"x" * (4 * 1024 * 1024)).decode()
    refused = client.post("/api/whatsapp/send", headers=AUTH, json={
        "sessionId": "shop", "to": "51987654321", "media": {"base64": too_big}})
    assert refused.status_code == 413 and refused.get_json()["error"] == "body_too_large"
    app.extensions["hub"].store.dispose()


@pytest.mark.parametrize("payload", [json.dumps(json.dumps({"sessionId": "twice"})), "[1, 2]", "42", "{nope"])
def test_a_body_that_is_not_a_json_object_is_400_and_never_parsed_twice(client, payload):
    response = client.post("/api/sessions", data=payload, content_type="application/json")
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_json"
    assert client.get("/api/sessions").get_json()["sessions"] == []


def test_an_empty_body_still_validates_like_an_empty_object(client):
    assert client.post("/api/sessions", data="", content_type="application/json").status_code == 400
    client.post("/api/sessions", json={"sessionId": "shop", "engine": "sandbox"})
    assert client.post("/api/sessions/shop/connect", data="", content_type="application/json").status_code == 200


def call_wsgi(app, path: str, payload: str) -> str:
    """One request straight through the WSGI app (the test client keeps its own references to the body)."""
    environ = EnvironBuilder(path=path, method="POST", headers=AUTH, data=payload,
                             content_type="application/json").get_environ()
    statuses = []
    b"".join(app(environ, lambda status, headers, exc_info=None: statuses.append(status)))
    return statuses[0]


@pytest.mark.parametrize("path,status", [("/api/sessions", "400"), ("/api/whatsapp/send", "400"),
                                         ("/api/sessions/nobody/connect", "404")])
def test_a_body_answered_with_an_error_is_freed_without_waiting_for_the_garbage_collector(app, path, status):
    payload = json.dumps({"sessionId": "not valid", "to": "x", "description": "x" * 900_000})
    call_wsgi(app, path, payload)  # warm-up: first-request caches
    gc.collect()
    gc.disable()
    try:
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        assert call_wsgi(app, path, payload).startswith(status)
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
        gc.enable()
    assert kept < 200_000, f"{kept} bytes still held after the request (the body is 900 kB)"


def test_every_media_sized_endpoint_exists(app):
    """A renamed send route would silently fall back to the 1 MB limit: each name must be a real route."""
    from hub.body import MEDIA_ENDPOINTS

    assert {rule.endpoint for rule in app.url_map.iter_rules()} >= MEDIA_ENDPOINTS
