"""Session routes: lifecycle on the sandbox engine and every bad-input answer."""
from __future__ import annotations

import pytest

from hub.app import create_app
from hub.config import Config


def create(client, session_id="shop", **extra):
    return client.post("/api/sessions", json={"sessionId": session_id, "engine": "sandbox", **extra})


def test_create_list_get(client):
    response = create(client, description="Tienda Lima")
    assert response.status_code == 201
    session = response.get_json()["session"]
    assert session["sessionId"] == "shop" and session["status"] == "stopped" and session["sandbox"] is True
    assert [s["sessionId"] for s in client.get("/api/sessions").get_json()["sessions"]] == ["shop"]
    assert client.get("/api/sessions/shop").get_json()["session"]["description"] == "Tienda Lima"


@pytest.mark.parametrize("session_id", ["bad id", "a/b", "../etc", "x" * 65, "", "ñandú"])
def test_invalid_session_id_400_nothing_created(client, session_id):
    response = create(client, session_id)
    assert response.status_code == 400
    assert client.get("/api/sessions").get_json()["sessions"] == []


def test_duplicate_409(client):
    create(client)
    response = create(client, description="other")
    assert response.status_code == 409 and response.get_json()["error"] == "session_exists"
    assert client.get("/api/sessions/shop").get_json()["session"]["description"] == ""


def test_unknown_session_404_everywhere(client):
    for method, path in [("get", "/api/sessions/nope"), ("delete", "/api/sessions/nope"),
                         ("post", "/api/sessions/nope/connect"), ("post", "/api/sessions/nope/logout"),
                         ("get", "/api/sessions/nope/qr"), ("post", "/api/sandbox/nope/scan")]:
        response = getattr(client, method)(path, json={}) if method == "post" else getattr(client, method)(path)
        assert response.status_code == 404, (method, path, response.get_json())
        assert response.get_json()["error"] == "session_not_found"


def test_connect_shows_qr_json_svg_png(client):
    create(client)
    assert client.post("/api/sessions/shop/connect").get_json()["session"]["status"] == "qr"
    qr = client.get("/api/sessions/shop/qr").get_json()
    assert qr["qr"].startswith("2@") and qr["expiresAt"]
    svg = client.get("/api/sessions/shop/qr?format=svg")
    assert svg.mimetype == "image/svg+xml" and b"<svg" in svg.data
    png = client.get("/api/sessions/shop/qr?format=png")
    assert png.mimetype == "image/png" and png.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert client.get("/api/sessions/shop/qr?format=gif").status_code == 400


def test_qr_409_when_connected_or_stopped(client, sandbox_session):
    response = client.get("/api/sessions/shop/qr")
    assert response.status_code == 409 and response.get_json()["error"] == "already_connected"
    create(client, "idle")
    assert client.get("/api/sessions/idle/qr").get_json()["error"] == "no_qr"


def test_logout_deletes_credentials_and_needs_a_new_qr(client, sandbox_session, hub):
    assert hub.sessions.has_credentials("shop")  # the linked device in the session's whatsmeow store
    session = client.post("/api/sessions/shop/logout").get_json()["session"]
    assert session["status"] == "logged_out"
    assert not hub.sessions.has_credentials("shop")
    assert client.post("/api/sessions/shop/logout").status_code == 409
    assert client.post("/api/sessions/shop/connect").get_json()["session"]["status"] == "qr"


def test_logout_of_stopped_session_409(client):
    create(client)
    response = client.post("/api/sessions/shop/logout")
    assert response.status_code == 409 and response.get_json()["error"] == "session_not_running"


def test_stop_then_connect_resumes_without_scan(client, sandbox_session):
    assert client.post("/api/sessions/shop/stop").get_json()["session"]["status"] == "stopped"
    assert client.post("/api/sessions/shop/connect").get_json()["session"]["status"] == "connected"


def test_delete_removes_session_and_files(client, sandbox_session, config):
    from pathlib import Path

    assert client.delete("/api/sessions/shop").get_json()["deleted"] == "shop"
    assert client.get("/api/sessions/shop").status_code == 404
    assert not Path(config.sessions_dir, "shop").exists()


def test_pair_returns_code_and_validates_phone(client):
    create(client)
    assert client.post("/api/sessions/shop/pair", json={"phone": "12"}).status_code == 400
    assert client.post("/api/sessions/shop/pair", json={"phone": "abc"}).get_json()["error"] == "invalid_phone"
    response = client.post("/api/sessions/shop/pair", json={"phone": "+51 987-654-321"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["phone"] == "51987654321" and len(body["code"]) == 9


def test_pair_on_connected_session_409(client, sandbox_session):
    assert client.post("/api/sessions/shop/pair", json={"phone": "51987654321"}).status_code == 409


def test_sandbox_disabled_403_with_hint(tmp_path):
    client = create_app(Config.for_tests(tmp_path, sandbox=False)).test_client()
    response = client.post("/api/sessions", json={"sessionId": "s", "engine": "sandbox"},
                           headers={"X-API-Key": "test-key"})
    assert response.status_code == 403 and "HUB_SANDBOX=true" in response.get_json()["message"]


def test_sessions_config_file_creates_sessions(hub, config):
    from pathlib import Path

    Path(config.sessions_config).write_text('[{"sessionId": "from_file", "engine": "sandbox", "description": "boot"}]')
    assert hub.sessions.create_from_file(config.sessions_config) == ["from_file"]
    assert hub.sessions.settled("from_file", 5)["status"] == "qr"
    assert hub.sessions.create_from_file(config.sessions_config) == []  # idempotent


def test_pair_of_a_session_stopped_while_waiting_409(client, hub, monkeypatch):
    """Stopped by another caller before a code came: a conflict to report, not WhatsApp being unreachable (503)."""
    create(client)
    monkeypatch.setattr(hub.sessions, "start", lambda *args, **kwargs: None)  # it stays stopped
    reply = client.post("/api/sessions/shop/pair", json={"phone": "51987654321"})
    assert reply.status_code == 409 and reply.get_json()["error"] == "session_stopped"
