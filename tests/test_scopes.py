"""To a scoped key every other session does not exist: the scoping matrix over every route of the app."""
from __future__ import annotations

import pytest

from hub.auth import ADMIN_ENDPOINTS, PUBLIC_ENDPOINTS, WEBSOCKET_ENDPOINTS

# A body every route accepts far enough to name its session (the scope check runs before validation).
BODY = {"sessionId": "other", "to": "51987654321", "message": "hola", "callbackUrl": "http://127.0.0.1:9/x",
        "url": "http://127.0.0.1:9/x", "from": "51911111111", "text": "hola", "pdfBase64": "JVBERi0=", "phone": "519"}
# Routes that name a session in their body or query instead of their path.
NAMED_ELSEWHERE = [
    ("POST", "/api/whatsapp/send", BODY), ("POST", "/api/send-message", BODY), ("POST", "/api/send-media", BODY),
    ("POST", "/api/send-pdf", BODY), ("POST", "/api/start-session", BODY),
    ("POST", "/api/whatsapp/register-listener", BODY), ("GET", "/api/events?sessionId=other", None),
    ("GET", "/api/deliveries?sessionId=other", None),
]


@pytest.fixture
def scoped_key(client) -> str:
    """A key limited to 'shop', with 'other' existing beside it."""
    for session_id in ("shop", "other"):
        assert client.post("/api/sessions", json={"sessionId": session_id, "engine": "sandbox"}).status_code == 201
    return client.post("/api/keys", json={"name": "shop-bot", "sessions": ["shop"]}).get_json()["key"]["key"]


def session_routes(app):
    """(method, path) of every route with a session in its path, for session 'other'."""
    for rule in app.url_map.iter_rules():
        if "session_id" not in rule.arguments or rule.endpoint in WEBSOCKET_ENDPOINTS:
            continue
        path = rule.rule
        for argument in rule.arguments:
            path = path.replace(f"<{argument}>", "other" if argument == "session_id" else "x1")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, path


def test_every_route_of_another_session_answers_404_to_a_scoped_key(app, client, scoped_key):
    raw = client.raw
    checked = list(session_routes(app))
    assert len(checked) > 25
    for method, path in checked:
        response = raw.open(path, method=method, json=BODY, headers={"X-API-Key": scoped_key})
        assert response.status_code == 404, (method, path, response.status_code, response.get_json())
        assert response.get_json()["error"] == "session_not_found", (method, path)
    assert client.get("/api/sessions/other").status_code == 200  # it does exist, for the administrator


@pytest.mark.parametrize(("method", "path", "body"), NAMED_ELSEWHERE)
def test_naming_another_session_in_a_body_or_query_answers_404(client, scoped_key, method, path, body):
    response = client.raw.open(path, method=method, json=body, headers={"X-API-Key": scoped_key})
    assert (response.status_code, response.get_json()["error"]) == (404, "session_not_found")


def test_a_scoped_key_lists_only_its_sessions(client, scoped_key):
    listed = client.raw.get("/api/sessions", headers={"X-API-Key": scoped_key}).get_json()["sessions"]
    assert [session["sessionId"] for session in listed] == ["shop"]
    assert len(client.get("/api/sessions").get_json()["sessions"]) == 2


def test_administrator_routes_answer_403_to_a_scoped_key(app, client, scoped_key):
    paths = {rule.endpoint: (rule.rule.replace("<key_id>", "key_x"), rule.methods - {"HEAD", "OPTIONS"})
             for rule in app.url_map.iter_rules() if rule.endpoint in ADMIN_ENDPOINTS}
    assert set(paths) == ADMIN_ENDPOINTS and not ADMIN_ENDPOINTS & PUBLIC_ENDPOINTS
    for path, methods in paths.values():
        for method in methods:
            body = {"sessionId": "other", "name": "x", "sessions": ["shop"]}
            response = client.raw.open(path, method=method, json=body, headers={"X-API-Key": scoped_key})
            assert (response.status_code, response.get_json()["error"]) == (403, "admin_required"), (method, path)
