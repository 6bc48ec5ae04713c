"""API rate limits in the app: 429 with Retry-After per caller; public routes and other callers untouched."""
from __future__ import annotations

import ipaddress
import math

import pytest

from hub.app import create_app
from hub.config import Config
from hub.rates import RateLimit


@pytest.fixture
def limited(tmp_path):
    config = Config.for_tests(tmp_path, api_keys=["key-a", "key-b"], rate_limit=RateLimit(6, 60.0, 3),
                              trusted_networks=[ipaddress.ip_network("10.0.0.0/8")])
    app = create_app(config)
    yield app.test_client(), app.extensions["hub"]
    app.extensions["hub"].store.dispose()


def test_a_key_over_its_limit_gets_429_with_retry_after_and_the_error_shape(limited):
    client, _ = limited
    answers = [client.get("/api/sessions", headers={"X-API-Key": "key-a"}) for _ in range(4)]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    refused = answers[-1]
    body = refused.get_json()
    assert body["success"] is False and body["error"] == "rate_limited"
    assert "admin-1" in body["message"] and "key-a" not in body["message"]
    # The fourth token is due 10 s after the first request (6/m, burst 3), less the time the four took.
    assert 5 <= body["retryAfter"] <= 10 and refused.headers["Retry-After"] == str(math.ceil(body["retryAfter"]))


def test_another_key_keeps_its_own_bucket(limited):
    client, _ = limited
    for _ in range(4):
        client.get("/api/sessions", headers={"Authorization": "Bearer key-a"})
    assert client.get("/api/sessions", headers={"X-API-Key": "key-b"}).status_code == 200
    assert client.get("/api/sessions?apiKey=key-a").status_code == 429  # the same key, however it is sent


def test_public_routes_and_refused_keys_take_no_token(limited):
    client, _ = limited
    for _ in range(5):
        assert client.get("/api/health").status_code == 200
        assert client.get("/openapi.json").status_code == 200
        assert client.get("/api/sessions", headers={"X-API-Key": "wrong"}).status_code == 403
    assert client.get("/api/sessions", headers={"X-API-Key": "key-a"}).status_code == 200


def test_trusted_callers_without_a_key_are_limited_per_address(limited):
    client, _ = limited
    first = {"REMOTE_ADDR": "10.1.1.1"}
    assert [client.get("/api/sessions", environ_base=first).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert client.get("/api/sessions", environ_base={"REMOTE_ADDR": "10.1.1.2"}).status_code == 200


def test_limited_requests_are_counted_by_key_id_never_by_key(limited):
    client, _ = limited
    for _ in range(5):
        client.get("/api/sessions", headers={"X-API-Key": "key-b"})
    metrics = client.get("/metrics", headers={"X-API-Key": "key-a"}).get_data(as_text=True)
    assert 'hub_api_limited_requests_total{key="admin-2"} 2.0' in metrics
    assert "key-b" not in metrics


def test_off_means_no_limit(tmp_path):
    app = create_app(Config.for_tests(tmp_path, rate_limit=None))
    client = app.test_client()
    assert {client.get("/api/sessions", headers={"X-API-Key": "test-key"}).status_code for _ in range(200)} == {200}
    app.extensions["hub"].store.dispose()


def scoped_key(client, **body) -> dict:
    client.post("/api/sessions", json={"sessionId": "shop", "engine": "sandbox"}, headers={"X-API-Key": "key-a"})
    return client.post("/api/keys", json={"name": "crm", "sessions": ["shop"], **body}, headers={"X-API-Key": "key-a"})


def test_a_scoped_key_has_its_own_bucket_at_its_own_limit(limited):
    client, _ = limited
    created = scoped_key(client, rateLimit="6/m burst 1").get_json()["key"]
    headers = {"X-API-Key": created["key"]}
    assert [client.get("/api/sessions/shop", headers=headers).status_code for _ in range(2)] == [200, 429]
    refused = client.get("/api/sessions/shop", headers=headers)
    assert created["id"] in refused.get_json()["message"] and 5 <= int(refused.headers["Retry-After"]) <= 10
    assert client.get("/api/sessions", headers={"X-API-Key": "key-b"}).status_code == 200


def test_a_key_limit_above_the_global_maximum_is_refused_and_no_key_is_made(limited):
    client, _ = limited
    client.post("/api/sessions", json={"sessionId": "shop", "engine": "sandbox"}, headers={"X-API-Key": "key-a"})
    for index, too_loose in enumerate(("7/m", "6/m burst 4", "1/s")):
        answer = client.post("/api/keys", json={"name": "crm", "sessions": ["shop"], "rateLimit": too_loose},
                             environ_base={"REMOTE_ADDR": f"10.0.0.{index}"})  # a trusted administrator each
        assert answer.status_code == 400, too_loose
        body = answer.get_json()
        assert body["error"] == "rate_limit_above_maximum" and "6/m burst 3" in body["message"]
    assert client.get("/api/keys", headers={"X-API-Key": "key-b"}).get_json()["keys"] == []
