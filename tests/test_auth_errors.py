"""API key (three places, 401 vs 403), trusted networks behind a proxy, and the one error shape."""
from __future__ import annotations

import pytest

from hub.app import create_app
from hub.auth import key_is_valid
from hub.config import Config


def error_shape(response, status, code):
    assert response.status_code == status
    body = response.get_json()
    assert body["success"] is False and body["error"] == code and body["message"]


def test_key_accepted_in_header_bearer_and_query(app):
    raw = app.test_client()
    assert raw.get("/api/sessions", headers={"X-API-Key": "test-key"}).status_code == 200
    assert raw.get("/api/sessions", headers={"Authorization": "Bearer test-key"}).status_code == 200
    assert raw.get("/api/sessions?apiKey=test-key").status_code == 200


def test_missing_key_401_wrong_key_403(app):
    raw = app.test_client()
    error_shape(raw.get("/api/sessions"), 401, "unauthorized")
    error_shape(raw.get("/api/sessions", headers={"X-API-Key": "wrong"}), 403, "forbidden")
    wrong_bearer = {"Authorization": "Bearer no"}
    error_shape(raw.post("/api/sessions", json={"sessionId": "x"}, headers=wrong_bearer), 403, "forbidden")


def test_health_and_docs_are_public(app):
    raw = app.test_client()
    assert raw.get("/api/health").get_json()["status"] == "ok"
    assert raw.get("/openapi.json").status_code == 200
    assert raw.get("/api-docs/swagger").status_code == 200


def test_several_keys_accepted(tmp_path):
    app = create_app(Config.for_tests(tmp_path, api_keys=["one", "two"]))
    raw = app.test_client()
    assert raw.get("/api/sessions", headers={"X-API-Key": "two"}).status_code == 200
    assert key_is_valid("one", ["one", "two"]) and not key_is_valid("three", ["one", "two"])


def test_trusted_network_needs_no_key_but_forwarded_for_is_not_trusted_blindly(tmp_path):
    import ipaddress

    nets = [ipaddress.ip_network("10.0.0.0/8")]
    direct = create_app(Config.for_tests(tmp_path / "a", trusted_networks=nets)).test_client()
    assert direct.get("/api/sessions", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200
    assert direct.get("/api/sessions", environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 401
    # Without HUB_PROXIES, a client cannot claim a trusted address through X-Forwarded-For.
    spoof = direct.get("/api/sessions", environ_base={"REMOTE_ADDR": "203.0.113.9"},
                       headers={"X-Forwarded-For": "10.1.2.3"})
    assert spoof.status_code == 401
    proxied = create_app(Config.for_tests(tmp_path / "b", trusted_networks=nets, proxies=1)).test_client()
    via_nginx = proxied.get("/api/sessions", environ_base={"REMOTE_ADDR": "127.0.0.1"},
                            headers={"X-Forwarded-For": "10.1.2.3"})
    assert via_nginx.status_code == 200
    outsider = proxied.get("/api/sessions", environ_base={"REMOTE_ADDR": "127.0.0.1"},
                           headers={"X-Forwarded-For": "203.0.113.9"})
    assert outsider.status_code == 401


def test_unknown_route_wrong_method_and_malformed_json(client):
    error_shape(client.get("/api/no-such-thing"), 404, "not_found")
    response = client.put("/api/sessions")
    error_shape(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]
    error_shape(client.post("/api/sessions", data="{nope", content_type="application/json"), 400, "invalid_json")


def test_crash_becomes_json_500_without_details(app, monkeypatch):
    def boom(*_args, **_kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(app.extensions["hub"].sessions, "list", boom)
    response = app.test_client().get("/api/sessions", headers={"X-API-Key": "test-key"})
    error_shape(response, 500, "internal_error")
    assert "secret internals" not in response.get_data(as_text=True)


@pytest.mark.parametrize("body,field", [({"sessionId": 5}, "sessionId"), ({"sessionId": "ok", "start": "yes"}, "start"),
                                        ({"sessionId": "ok", "description": ["x"]}, "description")])
def test_wrong_json_types_name_the_field(client, body, field):
    response = client.post("/api/sessions", json=body)
    error_shape(response, 400, "validation_error")
    assert field in response.get_json()["message"]
    assert client.get("/api/sessions").get_json()["sessions"] == []
