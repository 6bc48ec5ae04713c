"""Endpoint secrets are shown once (at creation or rotation); custom header values never come back whole."""
from __future__ import annotations

from hub.store import Endpoint

URL = "http://127.0.0.1:4001/crm"
TOKEN = "Bearer crm-token-0123456789"


def stored(hub, endpoint_id: str) -> Endpoint:
    with hub.store.session() as db:
        endpoint = db.get(Endpoint, endpoint_id)
        db.expunge(endpoint)
        return endpoint


def test_re_registering_a_url_neither_reveals_the_secret_nor_resets_filter_and_headers(client, hub, sandbox_session):
    created = client.post("/api/shop/webhook", json={"url": URL, "events": ["message-received"],
                                                     "headers": {"Authorization": TOKEN}}).get_json()["webhook"]
    assert created["secret"].startswith("whsec_")
    again = client.post("/api/shop/webhook", json={"url": URL})
    assert again.status_code == 200
    webhook = again.get_json()["webhook"]
    assert webhook["secret"] is None and webhook["events"] == ["message-received"]
    endpoint = stored(hub, created["id"])
    assert endpoint.secret == created["secret"] and endpoint.headers == {"authorization": TOKEN}
    listener = client.post("/api/whatsapp/register-listener", json={"callbackUrl": URL}).get_json()["listener"]
    assert listener["secret"].startswith("whsec_")
    again = client.post("/api/whatsapp/register-listener", json={"callbackUrl": URL})
    assert again.get_json()["listener"]["secret"] is None


def test_header_values_are_masked_in_every_answer(client, sandbox_session):
    body = {"url": URL, "headers": {"Authorization": TOKEN, "X-Tenant": "short"}}
    created = client.post("/api/shop/webhook", json=body).get_json()["webhook"]
    listed = client.get("/api/shop/webhook").get_json()["webhooks"][0]
    client.post("/api/whatsapp/register-listener", json={"callbackUrl": URL, "headers": body["headers"]})
    listener = client.get("/api/whatsapp/listeners").get_json()["listeners"][0]
    for view in (created, listed, listener):
        assert view["headers"] == {"authorization": "Bea…(masked)", "x-tenant": "***"}
    assert "crm-token" not in client.get("/api/shop/webhook").get_data(as_text=True)


def test_rotating_a_webhook_secret_shows_the_new_one_once(client, hub, sandbox_session):
    created = client.post("/api/shop/webhook", json={"url": URL}).get_json()["webhook"]
    rotated = client.post(f"/api/shop/webhook/{created['id']}/rotate-secret")
    assert rotated.status_code == 200
    secret = rotated.get_json()["webhook"]["secret"]
    assert secret.startswith("whsec_") and secret != created["secret"]
    assert stored(hub, created["id"]).secret == secret
    assert client.get("/api/shop/webhook").get_json()["webhooks"][0]["secret"] is None
    client.post("/api/sessions", json={"sessionId": "other", "engine": "sandbox"})
    wrong_session = client.post(f"/api/other/webhook/{created['id']}/rotate-secret")
    assert wrong_session.status_code == 404 and wrong_session.get_json()["error"] == "webhook_not_found"
    assert stored(hub, created["id"]).secret == secret


def test_rotating_a_listener_secret(client, hub):
    created = client.post("/api/whatsapp/register-listener", json={"callbackUrl": URL}).get_json()["listener"]
    rotated = client.post(f"/api/whatsapp/listeners/{created['id']}/rotate-secret").get_json()["listener"]
    assert rotated["secret"] != created["secret"] and stored(hub, created["id"]).secret == rotated["secret"]
    missing = client.post("/api/whatsapp/listeners/ep_nope/rotate-secret")
    assert missing.status_code == 404 and missing.get_json()["error"] == "listener_not_found"


def test_rotating_through_the_native_webhook_route(client, hub, sandbox_session):
    created = client.post("/api/sessions/shop/webhooks", json={"url": URL}).get_json()["webhook"]
    rotated = client.post(f"/api/sessions/shop/webhooks/{created['id']}/rotate-secret").get_json()["webhook"]
    assert rotated["secret"] != created["secret"] and stored(hub, created["id"]).secret == rotated["secret"]
