"""Per-session webhooks (native route): several URLs, idempotent, delete by id/url/all, test event, session delete.

The compat route POST /api/<id>/webhook (one webhook per session, replaced) is in tests/api/test_compat.py.
"""
import pytest

A, B = "http://127.0.0.1:4001/crm", "http://127.0.0.1:4002/crm"


def add(client, url, **body):
    return client.post("/api/sessions/shop/webhooks", json={"url": url, **body})


def webhooks(client):
    return client.get("/api/shop/webhook").json["webhooks"]


def test_several_urls_per_session_and_same_url_updates(client, sandbox_session):
    assert add(client, A).status_code == 201
    assert add(client, B, events=["message-received"]).status_code == 201
    again = add(client, A, events=["qr"])
    assert again.status_code == 200 and again.json["webhook"]["events"] == ["qr"]
    listed = [(w["url"], w["kind"], w["sessionId"]) for w in webhooks(client)]
    assert listed == [(A, "webhook", "shop"), (B, "webhook", "shop")]


def test_an_ordered_webhook_shows_it(client, sandbox_session):
    assert add(client, A, ordered=True).json["webhook"]["ordered"] is True
    assert add(client, B).json["webhook"]["ordered"] is False
    assert [(w["url"], w["ordered"]) for w in webhooks(client)] == [(A, True), (B, False)]


def test_unknown_session_is_404_and_bad_input_400(client, sandbox_session):
    assert client.post("/api/sessions/nope/webhooks", json={"url": A}).status_code == 404
    assert client.post("/api/nope/webhook", json={"url": A}).status_code == 404
    assert client.get("/api/nope/webhook").status_code == 404
    assert add(client, "file:///etc/passwd").status_code == 400
    assert add(client, A, events=["all", "bogus"]).status_code == 400
    assert client.post("/api/sessions/shop/webhooks", json={"events": ["qr"]}).status_code == 400
    assert client.post("/api/shop/webhook", json={"events": ["qr"]}).status_code == 400
    assert webhooks(client) == []


def test_delete_by_id_by_url_or_all(client, sandbox_session):
    first = add(client, A).json["webhook"]
    add(client, B)
    add(client, "http://127.0.0.1:4003/x")
    assert client.delete(f"/api/shop/webhook?id={first['id']}").json["removed"] == 1
    assert client.delete("/api/shop/webhook", query_string={"url": B}).json["removed"] == 1
    assert client.delete("/api/shop/webhook").json == {"success": True, "removed": 1}
    assert webhooks(client) == []


def test_deleting_the_session_removes_its_webhooks(client, hub, sandbox_session):
    add(client, A)
    assert client.delete("/api/sessions/shop").status_code == 200
    from sqlalchemy import func, select

    from hub.store import Endpoint

    with hub.store.session() as db:
        assert db.scalar(select(func.count()).select_from(Endpoint)) == 0


def test_test_event_goes_to_the_session_webhooks_only(client, sandbox_session):
    assert client.post("/api/shop/webhook/test").status_code == 409  # nothing to test yet
    add(client, A, events=["message-received"])
    client.post("/api/whatsapp/register-listener", json={"callbackUrl": B})
    reply = client.post("/api/shop/webhook/test")
    assert reply.status_code == 200 and reply.json["deliveries"] == 1
    [delivery] = client.get("/api/deliveries", query_string={"eventType": "test"}).json["deliveries"]
    assert delivery["url"] == A and delivery["eventId"] == reply.json["eventId"]


@pytest.mark.parametrize("headers", [{"Content-Type": "text/plain"}, {"webhook-id": "x"}, {"Host": "evil"}])
def test_hub_headers_cannot_be_overridden(client, sandbox_session, headers):
    reply = add(client, A, headers=headers)
    assert reply.status_code == 400 and reply.json["error"] == "reserved_header"


def test_bracketed_host_that_is_no_ipv6_address_400(client, sandbox_session):
    """urlsplit raises ValueError for it: that was a 500."""
    for url in ("http://[::zz]/hook", "http://[abc/hook"):
        reply = client.post("/api/sessions/shop/webhooks", json={"url": url})
        assert reply.status_code == 400 and reply.get_json()["error"] == "invalid_url"
