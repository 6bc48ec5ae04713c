"""Scoped API keys: POST/GET/DELETE /api/keys (administrators only), keys stored hashed, shown once."""
from __future__ import annotations

import hashlib
import time

import pytest
from sqlalchemy import text

from hub.keys import KEY_CACHE_SECONDS
from tests.conftest import AUTH


@pytest.fixture
def shops(client):
    """Two sandbox sessions: 'shop' and 'other'."""
    for session_id in ("shop", "other"):
        assert client.post("/api/sessions", json={"sessionId": session_id, "engine": "sandbox"}).status_code == 201
    return "shop", "other"


def create(client, **body) -> dict:
    response = client.post("/api/keys", json={"name": "crm", "sessions": ["shop"], **body})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["key"]


def scoped(key: dict) -> dict:
    return {"X-API-Key": key["key"]}


def test_a_created_key_is_shown_once_and_stored_only_as_its_hash(client, hub, shops):
    key = create(client, rateLimit="50/s  burst 100")
    assert key["key"].startswith("hubk_") and len(key["key"]) > 40
    assert key["prefix"] == key["key"][:11] and key["id"].startswith("key_")
    assert (key["name"], key["sessions"], key["rateLimit"]) == ("crm", ["shop"], "50/s burst 100")
    listed = client.get("/api/keys").get_json()["keys"]
    assert listed == [{name: value for name, value in key.items() if name != "key"}]
    with hub.store.session() as db:
        stored = db.execute(text("SELECT * FROM api_keys")).mappings().one()
    assert key["key"] not in {str(value) for value in stored.values()}
    assert stored["hash"] == hashlib.sha256(key["key"].encode()).hexdigest()


def test_a_scoped_key_works_on_its_session_with_every_way_of_sending_a_key(client, shops):
    key = create(client)["key"]
    raw = client.raw
    for request in ({"headers": {"X-API-Key": key}}, {"headers": {"Authorization": f"Bearer {key}"}},
                    {"query_string": {"apiKey": key}}):
        response = raw.get("/api/sessions/shop", **request)
        assert response.status_code == 200, response.get_json()


def test_a_deleted_key_stops_working_at_once(client, shops):
    key = create(client)
    assert client.raw.get("/api/sessions/shop", headers=scoped(key)).status_code == 200
    deleted = client.delete(f"/api/keys/{key['id']}")
    assert deleted.status_code == 200 and deleted.get_json()["deleted"]["id"] == key["id"]
    refused = client.raw.get("/api/sessions/shop", headers=scoped(key))
    assert (refused.status_code, refused.get_json()["error"]) == (403, "forbidden")
    assert client.get("/api/keys").get_json()["keys"] == []


def test_deleting_an_unknown_key_is_a_404(client):
    response = client.delete("/api/keys/key_01JDQ7X2Y3Z4A5B6C7D8E9F0GH")
    assert (response.status_code, response.get_json()["error"]) == (404, "key_not_found")


@pytest.mark.parametrize(("body", "code"), [
    ({"sessions": ["shop"]}, "validation_error"),
    ({"name": "", "sessions": ["shop"]}, "validation_error"),
    ({"name": "x" * 101, "sessions": ["shop"]}, "validation_error"),
    ({"name": "crm", "sessions": []}, "validation_error"),
    ({"name": "crm"}, "validation_error"),
    ({"name": "crm", "sessions": ["bad id!"]}, "validation_error"),
    ({"name": "crm", "sessions": "shop"}, "validation_error"),
    ({"name": "crm", "sessions": ["shop", "ghost"]}, "unknown_session"),
    ({"name": "crm", "sessions": ["shop"], "rateLimit": "fast"}, "invalid_rate_limit"),
    ({"name": "crm", "sessions": ["shop"], "rateLimit": "0/s"}, "invalid_rate_limit"),
    ({"name": "crm", "sessions": ["shop"], "rateLimit": "10/d burst 5"}, "invalid_rate_limit"),
])
def test_bad_key_requests_are_400_and_create_nothing(client, shops, body, code):
    response = client.post("/api/keys", json=body)
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"] == code and response.get_json()["success"] is False
    assert client.get("/api/keys").get_json()["keys"] == []


def test_keys_need_an_administrator(client, shops):
    key = create(client)
    raw = client.raw
    assert raw.get("/api/keys").status_code == 401
    assert raw.get("/api/keys", headers={"X-API-Key": "hubk_not-a-key"}).status_code == 403
    for method, path, body in (("POST", "/api/keys", {"name": "mine", "sessions": ["shop"]}),
                               ("GET", "/api/keys", None), ("DELETE", f"/api/keys/{key['id']}", None)):
        response = raw.open(path, method=method, json=body, headers=scoped(key))
        assert (response.status_code, response.get_json()["error"]) == (403, "admin_required"), (method, path)
    assert len(client.get("/api/keys").get_json()["keys"]) == 1


def test_a_scoped_key_cannot_create_sessions(client, shops):
    headers = scoped(create(client))
    for body in ({"sessionId": "new", "engine": "sandbox"}, {"sessionId": "shop", "engine": "sandbox"}):
        response = client.raw.post("/api/sessions", json=body, headers=headers)
        assert (response.status_code, response.get_json()["error"]) == (403, "admin_required")
    client.delete("/api/sessions/shop")
    recreate = client.raw.post("/api/start-session", json={"sessionId": "shop"}, headers=headers)
    assert (recreate.status_code, recreate.get_json()["error"]) == (403, "admin_required")
    assert [s["sessionId"] for s in client.get("/api/sessions").get_json()["sessions"]] == ["other"]


def test_the_administrator_key_still_sees_everything(client, shops):
    create(client)
    assert client.raw.get("/api/sessions", headers=AUTH).get_json()["sessions"].__len__() == 2


def test_a_key_deleted_by_another_process_is_refused_within_the_cache_lifetime(client, hub, shops, monkeypatch):
    key = create(client)
    assert client.raw.get("/api/sessions/shop", headers=scoped(key)).status_code == 200  # now cached
    with hub.store.session() as db:  # what another hub process's DELETE /api/keys does to the shared database
        db.execute(text("DELETE FROM api_keys"))
    assert client.raw.get("/api/sessions/shop", headers=scoped(key)).status_code == 200
    clock = time.monotonic() + KEY_CACHE_SECONDS + 0.1
    monkeypatch.setattr("hub.keys.time.monotonic", lambda: clock)
    assert client.raw.get("/api/sessions/shop", headers=scoped(key)).status_code == 403
