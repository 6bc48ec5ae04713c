"""Chats from history, one chat's pages, immediate actions (read receipts, presence) between sandbox sessions."""
from __future__ import annotations

import time

import pytest

from tests.outbound.helpers import events

SHOP_PHONE, BOB_PHONE = "51900000001", "51900000002"
SHOP, BOB = f"{SHOP_PHONE}@s.whatsapp.net", f"{BOB_PHONE}@s.whatsapp.net"


@pytest.fixture
def two_sessions(client):
    """'shop' and 'bob', two connected sandbox sessions that can message each other."""
    for session_id, phone in (("shop", SHOP_PHONE), ("bob", BOB_PHONE)):
        client.post("/api/sessions", json={"sessionId": session_id, "engine": "sandbox", "start": True})
        assert client.post(f"/api/sandbox/{session_id}/scan", json={"phone": phone}).status_code == 200
    return "shop", "bob"


def say(client, session_id, to, text) -> str:
    reply = client.post("/api/whatsapp/send", json={"sessionId": session_id, "to": to, "message": text})
    assert reply.status_code == 200, reply.get_json()
    return reply.get_json()["messageId"]


def wait_for(probe, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not (found := probe()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


def session_events(client, session_id, event_type):
    return [e for e in events(client, event_type) if e["sessionId"] == session_id]


def received(client, session_id, count):
    return wait_for(lambda: len(session_events(client, session_id, "message-received")) >= count)


def test_chats_list_one_row_per_chat_with_last_message_and_unread_count(client, two_sessions):
    client.post("/api/sandbox/bob/inbound", json={"from": "51987654321", "text": "hola", "pushName": "Ana"})
    client.post("/api/sandbox/bob/inbound", json={"from": "51987654321", "text": "¿hay stock?", "pushName": "Ana"})
    say(client, "shop", BOB_PHONE, "buenas")
    assert received(client, "bob", 3)
    say(client, "bob", "51987654321", "sí, hay")
    chats = client.get("/api/sessions/bob/chats").get_json()
    assert chats["total"] == 2
    ana, shop = chats["chats"]
    assert ana["chatId"] == "51987654321@s.whatsapp.net" and ana["name"] == "Ana" and ana["unreadCount"] == 2
    assert ana["lastMessage"]["text"] == "sí, hay" and ana["lastMessage"]["direction"] == "out"
    assert shop["chatId"] == SHOP and shop["unreadCount"] == 1 and shop["lastMessage"]["text"] == "buenas"
    page = client.get("/api/sessions/bob/chats", query_string={"limit": 1, "offset": 1}).get_json()["chats"]
    assert [chat["chatId"] for chat in page] == [SHOP]


def test_chat_messages_page_with_before_and_after(client, two_sessions):
    ids = [say(client, "shop", BOB_PHONE, f"m{n}") for n in range(5)]
    url = f"/api/sessions/shop/chats/{BOB_PHONE}/messages"
    newest = client.get(url, query_string={"limit": 2}).get_json()["messages"]
    assert [m["text"] for m in newest] == ["m4", "m3"]
    older = client.get(url, query_string={"limit": 2, "before": ids[3]}).get_json()["messages"]
    assert [m["text"] for m in older] == ["m2", "m1"]
    newer = client.get(url, query_string={"limit": 2, "after": ids[1]}).get_json()["messages"]
    assert [m["text"] for m in newer] == ["m3", "m2"]
    unknown = client.get(url, query_string={"before": "3EB0FFFFFFFFFFFF"})
    assert unknown.status_code == 404 and unknown.get_json()["error"] == "message_not_found"


def test_marking_a_chat_read_sends_read_receipts_to_the_other_session(client, two_sessions):
    first, second = say(client, "shop", BOB_PHONE, "uno"), say(client, "shop", BOB_PHONE, "dos")
    assert received(client, "bob", 2)
    assert client.get("/api/sessions/bob/chats").get_json()["chats"][0]["unreadCount"] == 2
    reply = client.post(f"/api/sessions/bob/chats/{SHOP}/read", json={})
    assert reply.status_code == 200, reply.get_json()
    assert sorted(reply.get_json()["messageIds"]) == sorted([first, second])
    reads = wait_for(lambda: session_events(client, "shop", "message-read"))
    assert sorted(reads[-1]["data"]["messageIds"]) == sorted([first, second])
    assert client.get("/api/sessions/bob/chats").get_json()["chats"][0]["unreadCount"] == 0


def test_a_customers_read_on_the_phone_side_reaches_the_session(client, two_sessions):
    sent = say(client, "shop", BOB_PHONE, "hola")
    assert client.post("/api/sandbox/shop/read", json={"from": BOB_PHONE, "messageIds": [sent]}).status_code == 200
    reads = wait_for(lambda: session_events(client, "shop", "message-read"))
    assert reads[-1]["data"]["messageIds"] == [sent]


def test_presence_reaches_the_other_session_as_chat_presence(client, two_sessions):
    for state in ("typing", "recording", "paused"):
        reply = client.post(f"/api/sessions/shop/chats/{BOB_PHONE}/presence", json={"state": state})
        assert reply.status_code == 200 and reply.get_json()["state"] == state
    shown = wait_for(lambda: len(session_events(client, "bob", "chat-presence")) >= 3 and
                     session_events(client, "bob", "chat-presence"))
    assert [(e["data"]["state"], e["data"]["from"]) for e in shown] == [("typing", SHOP), ("recording", SHOP),
                                                                        ("paused", SHOP)]
    bad = client.post(f"/api/sessions/shop/chats/{BOB_PHONE}/presence", json={"state": "dancing"})
    assert bad.status_code in (400, 422) and bad.get_json()["success"] is False


def test_immediate_actions_need_a_connected_session(client, hub, two_sessions):
    hub.sessions.stop("shop")
    for reply in (client.post(f"/api/sessions/shop/chats/{BOB_PHONE}/read", json={}),
                  client.post(f"/api/sessions/shop/chats/{BOB_PHONE}/presence", json={"state": "typing"})):
        assert reply.status_code == 409 and reply.get_json()["error"] == "session_not_connected"
    missing = client.post(f"/api/sessions/nobody/chats/{BOB_PHONE}/presence", json={"state": "typing"})
    assert missing.status_code == 404


def test_reactions_edits_and_revokes_between_two_sessions(client, two_sessions):
    """shop reacts to, edits and revokes in its chat with bob; bob's session receives each as WhatsApp delivers it."""
    theirs = say(client, "bob", SHOP_PHONE, "¿precio?")
    mine = say(client, "shop", BOB_PHONE, "S/ 10")
    assert received(client, "bob", 1) and received(client, "shop", 1)
    assert client.post(f"/api/sessions/shop/messages/{theirs}/reaction", json={"emoji": "👍"}).status_code == 200
    assert client.post(f"/api/sessions/shop/messages/{mine}/edit", json={"text": "S/ 12"}).status_code == 200
    assert client.delete(f"/api/sessions/shop/messages/{mine}").status_code == 200
    reactions = wait_for(lambda: [e for e in session_events(client, "bob", "message-received")
                                  if e["data"]["type"] == "reaction"])
    assert reactions[0]["data"]["reaction"]["messageId"] == theirs and reactions[0]["data"]["from"] == SHOP
    edited = wait_for(lambda: session_events(client, "bob", "message-edited"))
    assert edited[0]["data"]["messageId"] == mine and edited[0]["data"]["text"] == "S/ 12"
    revoked = wait_for(lambda: session_events(client, "bob", "message-revoked"))
    assert revoked[0]["data"]["messageId"] == mine and revoked[0]["data"]["revokedBy"] == SHOP
    row = next(m for m in client.get(f"/api/sessions/bob/chats/{SHOP}/messages").get_json()["messages"]
               if m["messageId"] == mine)
    assert row["originalText"] == "S/ 10" and row["text"] == "S/ 12" and row["revoked"]
    assert [r["emoji"] for r in client.get(f"/api/sessions/bob/chats/{SHOP}/messages").get_json()["messages"][-1]
            ["reactions"]] == ["👍"]
