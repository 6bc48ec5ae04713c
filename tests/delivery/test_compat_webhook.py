"""The compat webhook (POST /api/<id>/webhook) against real loopback receivers: replaced, not added,
and the API's own sends reach it as `message-from-me` (as the older services reported them)."""
from __future__ import annotations

from tests.delivery.conftest import wait_until
from tests.receivers import Receiver


def send(client, text):
    reply = client.post("/api/send/shop", json={"to": "51987654321", "message": text})
    assert reply.status_code == 200, reply.get_json()
    return reply.get_json()


def test_second_post_moves_the_webhook_and_the_old_url_stops_receiving(client, sandbox_session, dispatcher):
    with Receiver() as old, Receiver() as new:
        assert client.post("/api/shop/webhook", json={"url": old.url}).status_code == 201
        client.post("/api/sandbox/shop/inbound", json={"from": "51987654321", "text": "uno"})
        wait_until(lambda: old.events())
        replaced = client.post("/api/shop/webhook", json={"url": new.url, "events": ["message-received"]})
        assert replaced.status_code == 201
        client.post("/api/sandbox/shop/inbound", json={"from": "51987654321", "text": "dos"})
        wait_until(lambda: new.events())
        assert [e["data"]["text"] for e in new.events()] == ["dos"]
        assert [e["data"]["text"] for e in old.events() if e["type"] == "message-received"] == ["uno"]


def test_api_sends_reach_a_compat_webhook_as_message_from_me(client, hub, sandbox_session, dispatcher):
    with Receiver() as crm, Receiver() as native, Receiver() as explicit:
        client.post("/api/shop/webhook", json={"url": crm.url, "events": ["message-received", "message-from-me"]})
        client.post("/api/sessions/shop/webhooks", json={"url": native.url, "events": ["message-from-me"]})
        answer = send(client, "Su pedido está listo")
        client.post("/api/sandbox/shop/inbound", json={"from": "51987654321", "text": "gracias"})
        wait_until(lambda: len(crm.events()) == 2)
        by_type = {event["type"]: event for event in crm.events()}
        assert set(by_type) == {"message-from-me", "message-received"}
        assert by_type["message-from-me"]["data"] == {
            "messageId": answer["messageId"], "chatId": "51987654321@s.whatsapp.net",
            "to": "51987654321@s.whatsapp.net",
            "fromMe": True, "isGroup": False, "type": "text", "text": "Su pedido está listo",
            "timestamp": by_type["message-from-me"]["timestamp"], "source": "api", "outboundId": answer["id"]}
        assert native.events() == []  # a native webhook's message-from-me means the phone's own messages only
        # A compat webhook that names message-sent gets it under its own name.
        client.post("/api/shop/webhook", json={"url": explicit.url, "events": ["message-sent"]})
        send(client, "otro")
        wait_until(lambda: explicit.events())
        assert [(e["type"], e["data"]["text"]) for e in explicit.events()] == [("message-sent", "otro")]
