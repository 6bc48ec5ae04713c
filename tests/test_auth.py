"""Public routes are an explicit endpoint list: everything else needs a key, whatever its path looks like."""
from __future__ import annotations

from hub.auth import PUBLIC_ENDPOINTS

AUTH = {"X-API-Key": "test-key"}


def test_every_public_endpoint_exists(app):
    """A renamed endpoint would silently drop out of the list: each name must be a real route."""
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert PUBLIC_ENDPOINTS <= endpoints


def test_every_other_route_needs_a_key_even_for_a_session_named_like_a_public_path(app):
    raw = app.test_client()
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        path = rule.rule
        for argument in rule.arguments:
            path = path.replace(f"<{argument}>", "healthbot").replace(f"<path:{argument}>", "healthbot")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = raw.open(path, method=method, json={"url": "http://127.0.0.1:9/x"})
            assert response.status_code == 401, (method, path, response.status_code)
            checked += 1
    assert checked > 40


def test_healthbot_webhooks_need_a_key(client):
    raw = client.raw
    assert client.post("/api/sessions", json={"sessionId": "healthbot", "engine": "sandbox"}).status_code == 201
    added = client.post("/api/healthbot/webhook", json={"url": "http://127.0.0.1:9/hook"})
    assert added.status_code == 201
    assert raw.get("/api/healthbot/webhook").status_code == 401
    assert raw.post("/api/healthbot/webhook", json={"url": "http://127.0.0.1:9/evil"}).status_code == 401
    assert raw.delete("/api/healthbot/webhook").status_code == 401
    assert raw.post("/api/healthbot/webhook/test").status_code == 401
    assert len(client.get("/api/healthbot/webhook").get_json()["webhooks"]) == 1


def test_public_endpoints_answer_without_a_key(app):
    raw = app.test_client()
    assert raw.get("/api/health").status_code == 200
    assert raw.get("/openapi.json").status_code == 200
    assert raw.get("/api-docs/swagger").status_code == 200
    assert raw.get("/dashboard").status_code == 200
    assert raw.get("/uploads/1700000000000_0123456789abcdef.jpg").status_code == 404
    assert raw.get("/api/no-such-thing").status_code == 401
