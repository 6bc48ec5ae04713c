"""Listeners: register (idempotent), validate, list with health, unregister; /api/whatsapp/status."""
import pytest

URL = "http://localhost:3013/bot"


def register(client, **body):
    return client.post("/api/whatsapp/register-listener", json={"callbackUrl": URL, **body})


def listeners(client):
    return client.get("/api/whatsapp/listeners").json["listeners"]


def test_register_returns_secret_once_and_lists_health(client):
    reply = register(client, events=["message-received"])
    assert reply.status_code == 201
    listener = reply.json["listener"]
    assert listener["secret"].startswith("whsec_") and listener["kind"] == "listener"
    assert listener["events"] == ["message-received"] and listener["sessionId"] is None
    [listed] = listeners(client)
    assert listed["secret"] is None and listed["secretHint"] == listener["secret"][:8] + "…"
    assert listed["health"] == {"lastSuccessAt": None, "lastFailureAt": None, "consecutiveFailures": 0,
                                "pending": 0, "dead": 0}


def test_registering_the_same_url_updates_what_is_passed_and_never_shows_the_secret(client):
    first = register(client, headers={"Authorization": "Bearer crm-token-123"}).json["listener"]
    again = register(client, events=["qr"])
    assert again.status_code == 200
    updated = again.json["listener"]
    assert updated["id"] == first["id"] and updated["secret"] is None
    assert updated["events"] == ["qr"] and updated["headers"] == {"authorization": "Bea…(masked)"}
    cleared = register(client, headers={}).json["listener"]
    assert cleared["events"] == ["qr"] and cleared["headers"] == {}
    assert len(listeners(client)) == 1


@pytest.mark.parametrize("body, code", [
    ({"callbackUrl": "ftp://x/y"}, "invalid_url"),
    ({"callbackUrl": "not a url"}, "invalid_url"),
    ({"events": ["message-received", "nope"]}, "invalid_event_type"),
    ({"events": "message-received"}, "validation_error"),
    ({"headers": {"X-Count": 3}}, "validation_error"),
    ({"headers": ["a"]}, "validation_error"),
    ({"headers": {"webhook-signature": "v1,forged"}}, "reserved_header"),
    ({"headers": {"Bad Header": "x"}}, "invalid_headers"),
    ({"secret": "s3cr3t"}, "invalid_secret"),
    ({"secret": "whsec_***"}, "invalid_secret"),
    ({"sessionId": "missing"}, "session_not_found"),
    ({"ordered": "maybe"}, "validation_error"),
])
def test_bad_input_is_refused_and_nothing_stored(client, body, code):
    reply = register(client, **body)
    assert reply.status_code in (400, 404), reply.json
    assert reply.json["error"] == code and reply.json["success"] is False
    assert listeners(client) == []


def test_ordered_is_shown_and_kept_when_a_client_registers_again_without_it(client):
    assert register(client).json["listener"]["ordered"] is False
    assert register(client, ordered=True).json["listener"]["ordered"] is True
    assert register(client, events=["message-received"]).json["listener"]["ordered"] is True
    assert [listener["ordered"] for listener in listeners(client)] == [True]
    assert register(client, ordered=False).json["listener"]["ordered"] is False


def test_unknown_event_lists_the_valid_ones(client):
    reply = register(client, events=["message"])
    assert "message-received" in reply.json["message"] and "all" in reply.json["validEvents"]


def test_own_secret_is_kept(client):
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    assert register(client, secret=secret).json["listener"]["secret"] == secret


def test_unregister(client):
    register(client)
    removed = client.post("/api/whatsapp/unregister-listener", json={"callbackUrl": URL})
    assert removed.json == {"success": True, "removed": 1}
    assert client.post("/api/whatsapp/unregister-listener", json={"callbackUrl": URL}).json["removed"] == 0
    assert client.post("/api/whatsapp/unregister-listener", json={}).status_code == 400
    assert listeners(client) == []


def test_private_urls_refused_when_blocking(tmp_path):
    from hub.app import create_app
    from hub.config import Config
    from tests.conftest import AUTH

    app = create_app(Config.for_tests(tmp_path, block_private_urls=True))
    reply = app.test_client().post("/api/whatsapp/register-listener", json={"callbackUrl": URL}, headers=AUTH)
    assert reply.status_code == 400 and reply.json["error"] == "url_not_allowed"


def test_whatsapp_status(client, sandbox_session):
    register(client)
    status = client.get("/api/whatsapp/status").json
    assert status["connected"] is True and status["state"] == "CONNECTED" and status["listeners"] == 1
    assert [s["sessionId"] for s in status["sessions"]] == ["shop"]


def test_whatsapp_status_without_sessions(client):
    assert client.get("/api/whatsapp/status").json == {"success": True, "connected": False, "state": "UNLAUNCHED",
                                                        "status": "no_sessions", "listeners": 0, "sessions": []}
