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


def test_the_shared_sandbox_network_is_for_administrators(app, client, scoped_key):
    shared = [rule for rule in app.url_map.iter_rules()
              if rule.endpoint.startswith("sandbox") and "session_id" not in rule.arguments]
    assert shared, "no sandbox route outside a session: drop this test"
    for rule in shared:
        path = rule.rule
        for argument in rule.arguments:
            path = path.replace(f"<{argument}>", "51987654321")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.raw.open(path, method=method, json={}, headers={"X-API-Key": scoped_key})
            assert (response.status_code, response.get_json()["error"]) == (403, "admin_required"), (method, path)


def test_administrator_routes_answer_403_to_a_scoped_key(app, client, scoped_key):
    paths = {rule.endpoint: (rule.rule.replace("<key_id>", "key_x"), rule.methods - {"HEAD", "OPTIONS"})
             for rule in app.url_map.iter_rules() if rule.endpoint in ADMIN_ENDPOINTS}
    assert set(paths) == ADMIN_ENDPOINTS and not ADMIN_ENDPOINTS & PUBLIC_ENDPOINTS
    for path, methods in paths.values():
        for method in methods:
            body = {"sessionId": "other", "name": "x", "sessions": ["shop"]}
            response = client.raw.open(path, method=method, json=body, headers={"X-API-Key": scoped_key})
            assert (response.status_code, response.get_json()["error"]) == (403, "admin_required"), (method, path)


def test_listings_show_a_scoped_key_only_its_sessions_and_endpoints(client, scoped_key):
    key = {"X-API-Key": scoped_key}
    raw = client.raw
    everything = {"callbackUrl": "http://127.0.0.1:9/all", "events": ["all"]}
    admin_listener = client.post("/api/whatsapp/register-listener", json=everything).get_json()["listener"]
    for session_id in ("shop", "other"):
        hook = {"url": f"http://127.0.0.1:9/{session_id}", "events": ["all"]}
        assert client.post(f"/api/sessions/{session_id}/webhooks", json=hook).status_code == 201
        assert client.post(f"/api/sessions/{session_id}/connect").status_code == 200
    events = raw.get("/api/events?limit=500", headers=key).get_json()["events"]
    assert events and {event["sessionId"] for event in events} == {"shop"}
    every = client.get("/api/events?limit=500").get_json()["events"]
    assert {event["sessionId"] for event in every} == {"shop", "other"}
    deliveries = raw.get("/api/deliveries?limit=500", headers=key).get_json()["deliveries"]
    assert deliveries and {d["url"] for d in deliveries} == {"http://127.0.0.1:9/shop"}
    hidden = next(d for d in client.get("/api/deliveries?limit=500").get_json()["deliveries"]
                  if d["endpointId"] == admin_listener["id"] and d["sessionId"] == "shop")
    for method, path in (("GET", f"/api/deliveries/{hidden['id']}"),
                         ("POST", f"/api/deliveries/{hidden['id']}/replay")):
        answer = raw.open(path, method=method, headers=key)
        assert (answer.status_code, answer.get_json()["error"]) == (404, "delivery_not_found")
    rotate = raw.post(f"/api/whatsapp/listeners/{admin_listener['id']}/rotate-secret", headers=key)
    assert (rotate.status_code, rotate.get_json()["error"]) == (404, "listener_not_found")
    assert raw.get("/api/whatsapp/listeners", headers=key).get_json()["listeners"] == []
    status = raw.get("/api/whatsapp/status", headers=key).get_json()
    assert [s["sessionId"] for s in status["sessions"]] == ["shop"] and status["listeners"] == 0


def test_a_scoped_key_cannot_read_or_remove_another_sessions_sends_or_listeners(client, scoped_key):
    key = {"X-API-Key": scoped_key}
    queued = client.post("/api/whatsapp/send", json={"sessionId": "other", "to": "51987654321", "message": "hola"})
    assert queued.status_code == 202
    for path in (f"/api/whatsapp/send/{queued.get_json()['id']}", f"/api/outbound/{queued.get_json()['id']}"):
        answer = client.raw.get(path, headers=key)
        assert (answer.status_code, answer.get_json()["error"]) == (404, "outbound_not_found")
    client.post("/api/whatsapp/register-listener", json={"callbackUrl": "http://127.0.0.1:9/all"})
    removed = client.raw.post("/api/whatsapp/unregister-listener", json={"callbackUrl": "http://127.0.0.1:9/all"},
                              headers=key)
    assert removed.get_json()["removed"] == 0
    assert len(client.get("/api/whatsapp/listeners").get_json()["listeners"]) == 1


def test_a_scoped_key_sends_without_naming_its_only_session(client, scoped_key):
    sent = client.raw.post("/api/whatsapp/send", json={"to": "51987654321", "message": "hola"},
                           headers={"X-API-Key": scoped_key})
    assert sent.status_code == 202, sent.get_json()
    assert client.get(f"/api/outbound/{sent.get_json()['id']}").get_json()["outbound"]["sessionId"] == "shop"
