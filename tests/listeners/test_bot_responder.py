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
