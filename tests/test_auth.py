"""Public routes are an explicit endpoint list: everything else needs a key, whatever its path looks like."""
from __future__ import annotations

import ipaddress

import pytest

from hub.app import create_app
from hub.auth import PUBLIC_ENDPOINTS
from hub.config import Config

AUTH = {"X-API-Key": "test-key"}


def test_every_public_endpoint_exists(app):
    """A renamed endpoint would silently drop out of the list: each name must be a real route."""
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints >= PUBLIC_ENDPOINTS


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


def test_a_forwarded_address_counts_only_from_the_proxys_own_address(tmp_path):
    nets = [ipaddress.ip_network("10.0.0.0/8")]
    proxied = create_app(Config.for_tests(tmp_path, trusted_networks=nets, proxies=1)).test_client()
    spoofed = {"X-Forwarded-For": "10.1.1.1"}
    # Reaching the hub directly (not through nginx on 127.0.0.1), a client cannot claim a trusted address.
    assert proxied.get("/api/sessions", headers=spoofed, environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 401
    assert proxied.get("/api/sessions", headers=spoofed, environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 200


def test_proxy_addresses_are_configurable(tmp_path):
    nets = [ipaddress.ip_network("10.0.0.0/8")]
    config = Config.for_tests(tmp_path, trusted_networks=nets, proxies=1,
                              proxy_addresses=[ipaddress.ip_network("172.30.57.1/32")])
    proxied = create_app(config).test_client()
    spoofed = {"X-Forwarded-For": "10.1.1.1"}
    assert proxied.get("/api/sessions", headers=spoofed, environ_base={"REMOTE_ADDR": "172.30.57.1"}).status_code == 200
    assert proxied.get("/api/sessions", headers=spoofed, environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 401


# A WebSocket handshake as the routing sees it (a refused one never reaches the socket code).
UPGRADE = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
           "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}


@pytest.mark.parametrize("origin", ["https://evil.example", "https://localhost.evil.example", "null"])
def test_websockets_refuse_other_sites_pages_even_with_the_key(app, origin):
    response = app.test_client().get("/ws/events", headers={**AUTH, **UPGRADE, "Origin": origin})
    assert response.status_code == 403 and response.get_json()["error"] == "origin_not_allowed"


def test_a_websocket_ticket_must_be_genuine_and_is_only_for_websockets(app):
    raw = app.test_client()
    assert raw.post("/api/ws-ticket").status_code == 401
    answer = raw.post("/api/ws-ticket", headers=AUTH).get_json()
    assert answer["expiresAt"].endswith("+00:00")
    forged = raw.get(f"/ws/events?ticket={answer['ticket']}x", headers=UPGRADE)
    assert forged.status_code == 403 and forged.get_json()["error"] == "invalid_ticket"
    assert raw.get(f"/api/sessions?ticket={answer['ticket']}").status_code == 401
