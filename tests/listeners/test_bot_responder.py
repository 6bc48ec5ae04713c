"""`python -m listeners.bot_responder` against a real hub on the sandbox."""
from __future__ import annotations

from tests.listeners.helpers import delivery_of, endpoint_of, event_id_of, replay_and_wait

CUSTOMER = "51911000111"
CUSTOMER_JID = CUSTOMER + "@s.whatsapp.net"


def replies_to(hub, jid: str) -> list[str]:
    return [sent["text"] for sent in hub.get("/api/sandbox/shop/sent").json()["messages"] if sent["to"] == jid]


def inbound(hub, text: str, **extra) -> str:
    reply = hub.post("/api/sandbox/shop/inbound", json={"from": CUSTOMER, "text": text, **extra})
    assert reply.status_code == 200, reply.text
    return reply.json()["messageId"]


def test_bot_echoes_each_message_once_and_re_registers_when_forgotten(live_hub, run_listener):
    bot = run_listener("listeners.bot_responder", live_hub, SESSION_ID="shop")
    listener = live_hub.wait_for(lambda: endpoint_of(live_hub, bot.url), timeout=15)
    assert listener["events"] == ["message-received"] and listener["sessionId"] == "shop"

    inbound(live_hub, "sent from my own phone", fromMe=True)
    first = inbound(live_hub, "¿Tienen stock?")
    assert live_hub.wait_for(lambda: replies_to(live_hub, CUSTOMER_JID)) == ["¿Tienen stock?"]

    # The same delivery again (same webhook-id): acknowledged, not answered twice.
    delivery = delivery_of(live_hub, listener["id"], event_id_of(live_hub, first))
    assert replay_and_wait(live_hub, delivery["id"])["attemptLog"][-1]["statusCode"] == 200
    assert "duplicate delivery" in bot.logs()

    # The hub forgets the listener: the bot notices and registers again, then keeps answering.
    assert live_hub.post("/api/whatsapp/unregister-listener", json={"callbackUrl": bot.url}).json()["removed"] == 1
    live_hub.wait_for(lambda: endpoint_of(live_hub, bot.url), timeout=10)
    inbound(live_hub, "¿Y precios?")
    live_hub.wait_for(lambda: len(replies_to(live_hub, CUSTOMER_JID)) == 2)
    assert replies_to(live_hub, CUSTOMER_JID) == ["¿Tienen stock?", "¿Y precios?"]  # nothing for fromMe

    bot.stop()
    live_hub.post("/api/whatsapp/unregister-listener", json={"callbackUrl": bot.url})


def test_bot_marks_read_shows_typing_and_quotes_the_customer(live_hub, run_listener):
    """The customer is another sandbox session, so the read receipt and the typing reach a real device."""
    shop_phone = live_hub.get("/api/sessions/shop").json()["session"]["phone"]
    live_hub.post("/api/sessions", json={"sessionId": "customer", "engine": "sandbox", "start": True})
    assert live_hub.post("/api/sandbox/customer/scan", json={"phone": "51933000444"}).status_code == 200
    bot = run_listener("listeners.bot_responder", live_hub, SESSION_ID="shop")
    live_hub.wait_for(lambda: endpoint_of(live_hub, bot.url), timeout=15)

    asked = live_hub.post("/api/whatsapp/send", json={"sessionId": "customer", "to": shop_phone,
                                                      "message": "¿Envían a Cusco?"}).json()["messageId"]

    def customer_events(kind):
        found = live_hub.get("/api/events", params={"type": kind, "sessionId": "customer"}).json()["events"]
        return [event for event in found if event["sessionId"] == "customer"]
    [answer] = live_hub.wait_for(lambda: customer_events("message-received"), timeout=15)
    assert answer["data"]["text"] == "¿Envían a Cusco?" and answer["data"]["quoted"]["messageId"] == asked
    read = live_hub.wait_for(lambda: [e for e in customer_events("message-read") if asked in e["data"]["messageIds"]])
    assert read
    assert [e["data"]["state"] for e in customer_events("chat-presence")] == ["typing"]
    bot.stop()
    live_hub.post("/api/whatsapp/unregister-listener", json={"callbackUrl": bot.url})
