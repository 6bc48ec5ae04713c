"""PATCH /api/sessions/<id>: description and settings, one rule set, shown in every session view."""
from __future__ import annotations

import pytest

DEFAULTS = {"rejectCalls": False, "rejectCallMessage": None, "syncHistory": False,
            "sendRate": None, "dailyLimit": None, "newContactRate": None}


@pytest.fixture
def shop(client):
    assert client.post("/api/sessions", json={"sessionId": "shop", "engine": "sandbox"}).status_code == 201
    return "shop"


def patch(client, body, session_id="shop"):
    return client.patch(f"/api/sessions/{session_id}", json=body)


def test_new_session_shows_the_defaults(client, shop):
    assert client.get("/api/sessions/shop").get_json()["session"]["settings"] == DEFAULTS


def test_patch_changes_only_the_keys_given_and_is_shown_everywhere(client, shop):
    response = patch(client, {"description": "Caja", "settings": {"rejectCalls": True, "sendRate": 20}})
    assert response.status_code == 200
    assert response.get_json()["session"]["settings"] == {**DEFAULTS, "rejectCalls": True, "sendRate": 20}
    patch(client, {"settings": {"rejectCallMessage": "Escríbenos", "dailyLimit": 500, "newContactRate": 10}})
    expected = {**DEFAULTS, "rejectCalls": True, "sendRate": 20, "rejectCallMessage": "Escríbenos",
                "dailyLimit": 500, "newContactRate": 10}
    session = client.get("/api/sessions/shop").get_json()["session"]
    assert session["settings"] == expected and session["description"] == "Caja"
    assert client.get("/api/sessions").get_json()["sessions"][0]["settings"] == expected


def test_null_restores_the_default(client, shop):
    patch(client, {"settings": {"sendRate": 20, "syncHistory": True}})
    settings = patch(client, {"settings": {"sendRate": None}}).get_json()["session"]["settings"]
    assert settings == {**DEFAULTS, "syncHistory": True}


def test_settings_survive_a_restart(config, shop, client):
    from hub.app import create_app

    patch(client, {"settings": {"rejectCalls": True}})
    again = create_app(config)
    try:
        with again.app_context():
            assert again.extensions["hub"].sessions.get("shop")["settings"]["rejectCalls"] is True
    finally:
        again.extensions["hub"].store.dispose()


@pytest.mark.parametrize("settings", [
    {"sendRate": 0}, {"sendRate": -5}, {"dailyLimit": 0}, {"newContactRate": -1}, {"sendRate": 1.5},
    {"sendRate": "10"}, {"rejectCalls": "yes"}, {"rejectCallMessage": "x" * 1001}, {"rejectCallMesage": "typo"},
    {"sendRate": 10**7},
])
def test_bad_settings_400_and_nothing_changes(client, shop, settings):
    patch(client, {"settings": {"sendRate": 7}})
    response = patch(client, {"description": "changed", "settings": settings})
    assert response.status_code == 400
    body = response.get_json()
    assert body["success"] is False and body["error"] == "validation_error" and "settings." in body["message"]
    session = client.get("/api/sessions/shop").get_json()["session"]
    assert session["settings"] == {**DEFAULTS, "sendRate": 7} and session["description"] == ""


def test_reject_call_message_of_1000_characters_is_accepted(client, shop):
    assert patch(client, {"settings": {"rejectCallMessage": "x" * 1000}}).status_code == 200


def test_unknown_session_404(client):
    response = patch(client, {"settings": {"rejectCalls": True}}, session_id="nope")
    assert response.status_code == 404 and response.get_json()["error"] == "session_not_found"
