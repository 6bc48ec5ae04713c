"""GET /api/messages/<sessionId>: inbound and outbound history, newest first, by chat, paginated."""
from __future__ import annotations

from tests.outbound.helpers import sent


def inbound(client, sender: str, text: str):
    assert client.post("/api/sandbox/shop/inbound", json={"from": sender, "text": text}).status_code == 200


def test_history_holds_both_directions_newest_first(client, sandbox_session):
    inbound(client, "+51 987 654 321", "¿tienen stock?")
    reply = client.post("/api/whatsapp/send", json={"to": "51987654321", "message": "Sí, 3 unidades"}).get_json()
    messages = client.get("/api/messages/shop").get_json()["messages"]
    assert [(m["direction"], m["text"]) for m in messages] == [("out", "Sí, 3 unidades"), ("in", "¿tienen stock?")]
    out, received = messages
    assert out["messageId"] == reply["messageId"] == sent(client)[0]["messageId"]
    assert out["outboundId"] == reply["id"] and out["to"] == "51987654321@s.whatsapp.net"
    assert received["from"] == received["chatId"] == "51987654321@s.whatsapp.net"
    assert received["status"] == "received" and received["type"] == "text"


def test_filter_by_chat_accepts_a_phone_number_and_pages(client, sandbox_session):
    for n in range(3):
        inbound(client, "51987654321", f"ana {n}")
    inbound(client, "51911111111", "luis")
    page = client.get("/api/messages/shop", query_string={"chatId": "+51 987 654 321", "limit": 2}).get_json()
    assert [m["text"] for m in page["messages"]] == ["ana 2", "ana 1"] and page["limit"] == 2
    rest = client.get("/api/messages/shop", query_string={"chatId": "51987654321@c.us", "limit": 2, "offset": 2})
    assert [m["text"] for m in rest.get_json()["messages"]] == ["ana 0"]


def test_bad_queries_and_unknown_sessions_are_4xx(client, sandbox_session):
    assert client.get("/api/messages/nope").status_code == 404
    assert client.get("/api/messages/shop", query_string={"limit": 0}).status_code == 400
    assert client.get("/api/messages/shop", query_string={"chatId": "hola"}).get_json()["error"] == "invalid_recipient"
