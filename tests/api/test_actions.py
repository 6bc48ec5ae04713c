"""Message actions on the sandbox: reactions, edits and revokes through the send queue, and their bad input."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from hub.outbound import queue
from hub.store import Message, utcnow
from tests.outbound.helpers import events, outbound_count, sent

CUSTOMER = "51987654321"
CHAT = f"{CUSTOMER}@s.whatsapp.net"


def send_text(client, text="Su pedido está listo") -> str:
    reply = client.post("/api/whatsapp/send", json={"sessionId": "shop", "to": CUSTOMER, "message": text})
    assert reply.status_code == 200, reply.get_json()
    return reply.get_json()["messageId"]


def customer_says(client, text="hola") -> str:
    reply = client.post("/api/sandbox/shop/inbound", json={"from": CUSTOMER, "text": text, "pushName": "Ana"})
    assert reply.status_code == 200, reply.get_json()
    return reply.get_json()["messageId"]


def history(client, message_id: str) -> dict:
    rows = client.get("/api/messages/shop", query_string={"limit": 500}).get_json()["messages"]
    return next(row for row in rows if row["messageId"] == message_id)


def sent_long_ago(hub, message_id: str) -> None:
    """The message was sent 21 minutes ago (whatsmeow's EditWindow is 20 minutes)."""
    with hub.store.session() as db:
        db.execute(update(Message).where(Message.message_id == message_id)
                   .values(timestamp=utcnow() - timedelta(minutes=21)))


def react(client, message_id, emoji, **extra):
    return client.post(f"/api/sessions/shop/messages/{message_id}/reaction", json={"emoji": emoji, **extra})


def test_reaction_to_a_customer_message_is_sent_as_whatsmeow_builds_it_and_shows_in_history(client, sandbox_session):
    target = customer_says(client)
    reply = react(client, target, "👍")
    assert reply.status_code == 200, reply.get_json()
    assert reply.get_json()["status"] == "sent" and reply.get_json()["messageId"]
    [reaction] = [m for m in sent(client) if m["kind"] == "reaction"]
    # whatsmeow BuildReaction / BuildMessageKey: the customer's message in a DM is fromMe=false, no participant.
    assert reaction["to"] == CHAT and reaction["reaction"] == {"emoji": "👍", "messageId": target, "removed": False}
    [event] = events(client, "message-sent")
    assert event["data"]["type"] == "reaction" and event["data"]["targetMessageId"] == target
    assert event["data"]["text"] == "👍"
    row = history(client, target)
    assert [r["emoji"] for r in row["reactions"]] == ["👍"]
    assert react(client, target, "").status_code == 200  # "" removes it (whatsmeow RemoveReactionText)
    assert history(client, target)["reactions"] == []
    assert [m["reaction"]["removed"] for m in sent(client) if m["kind"] == "reaction"] == [False, True]


def test_edit_of_an_own_message_keeps_the_original_text(client, sandbox_session):
    target = send_text(client, "Llega el lunes")
    reply = client.post(f"/api/sessions/shop/messages/{target}/edit", json={"text": "Llega el martes"})
    assert reply.status_code == 200, reply.get_json()
    edit = sent(client)[-1]
    # neonize build_edit = whatsmeow BuildEdit: editedMessage{protocolMessage MESSAGE_EDIT, key fromMe}.
    assert edit["kind"] == "edit" and edit["text"] == "Llega el martes"
    assert edit["key"] == {"messageId": target, "fromMe": True, "chat": CHAT, "participant": None}
    row = history(client, target)
    assert row["text"] == "Llega el martes" and row["originalText"] == "Llega el lunes" and row["edited"]
    assert events(client, "message-sent")[-1]["data"]["type"] == "edit"


def test_revoke_of_an_own_message_marks_it_revoked(client, sandbox_session):
    target = send_text(client)
    reply = client.delete(f"/api/sessions/shop/messages/{target}")
    assert reply.status_code == 200, reply.get_json()
    revoke = sent(client)[-1]
    # neonize build_revoke = whatsmeow BuildRevoke: protocolMessage REVOKE, key fromMe for an own message.
    assert revoke["kind"] == "revoke" and revoke["key"]["messageId"] == target and revoke["key"]["fromMe"] is True
    row = history(client, target)
    assert row["revoked"] and row["revokedBy"] and row["revokedAt"]
    again = client.delete(f"/api/sessions/shop/messages/{target}")
    assert again.status_code == 409 and again.get_json()["error"] == "message_revoked"


@pytest.mark.parametrize("emoji", ["a", "👍👍", "👍 ", "ok"])
def test_a_reaction_that_is_not_one_emoji_is_400_and_nothing_is_queued(client, hub, sandbox_session, emoji):
    target = customer_says(client)
    reply = react(client, target, emoji)
    assert reply.status_code == 400 and reply.get_json()["error"] == "invalid_reaction"
    assert outbound_count(hub) == 0


def test_edit_or_revoke_of_a_customer_message_is_409_and_nothing_is_queued(client, hub, sandbox_session):
    target = customer_says(client)
    edit = client.post(f"/api/sessions/shop/messages/{target}/edit", json={"text": "x"})
    revoke = client.delete(f"/api/sessions/shop/messages/{target}")
    assert (edit.status_code, edit.get_json()["error"]) == (409, "not_own_message")
    assert (revoke.status_code, revoke.get_json()["error"]) == (409, "not_own_message")
    assert outbound_count(hub) == 0


def test_edit_after_whatsapps_window_is_409_edit_window_passed(client, hub, sandbox_session):
    target = send_text(client)
    sent_long_ago(hub, target)
    reply = client.post(f"/api/sessions/shop/messages/{target}/edit", json={"text": "tarde"})
    assert (reply.status_code, reply.get_json()["error"]) == (409, "edit_window_passed")
    assert outbound_count(hub) == 1  # only the first send


def test_unknown_message_is_404_unless_a_reaction_names_its_chat(client, hub, sandbox_session):
    for reply in (react(client, "3EB0AAAAAAAAAAAA", "👍"),
                  client.post("/api/sessions/shop/messages/3EB0AAAAAAAAAAAA/edit", json={"text": "x"}),
                  client.delete("/api/sessions/shop/messages/3EB0AAAAAAAAAAAA")):
        assert reply.status_code == 404 and reply.get_json()["error"] == "message_not_found"
    assert outbound_count(hub) == 0
    reply = react(client, "3EB0AAAAAAAAAAAA", "🙏", chatId=CUSTOMER)
    assert reply.status_code == 200, reply.get_json()
    assert sent(client)[-1]["reaction"]["messageId"] == "3EB0AAAAAAAAAAAA"


def test_a_bad_message_id_shape_is_400(client, sandbox_session):
    reply = react(client, "not-an-id!", "👍")
    assert reply.status_code in (400, 422) and reply.get_json()["success"] is False


def test_actions_while_offline_are_queued_and_drained_in_order_with_idempotency(client, hub, sandbox_session):
    target = send_text(client, "uno")
    hub.sessions.stop("shop")
    key = {"Idempotency-Key": "edit-1"}
    first = client.post(f"/api/sessions/shop/messages/{target}/edit", json={"text": "dos"}, headers=key)
    repeat = client.post(f"/api/sessions/shop/messages/{target}/edit", json={"text": "dos"}, headers=key)
    assert first.status_code == 202 and repeat.get_json()["id"] == first.get_json()["id"]
    react(client, target, "❤️")
    assert outbound_count(hub) == 3
    hub.sessions.start("shop", settle=5.0)
    assert queue.drain(hub, "shop") == 2
    assert [m["kind"] for m in sent(client)] == ["text", "edit", "reaction"]
    row = history(client, target)
    assert row["text"] == "dos" and row["originalText"] == "uno" and row["reactions"][0]["emoji"] == "❤️"


def test_an_edit_whose_window_closed_while_queued_fails_with_message_failed(client, hub, sandbox_session):
    target = send_text(client)
    hub.sessions.stop("shop")
    assert client.post(f"/api/sessions/shop/messages/{target}/edit", json={"text": "x"}).status_code == 202
    sent_long_ago(hub, target)
    hub.sessions.start("shop", settle=5.0)
    queue.drain(hub, "shop")
    [failed] = events(client, "message-failed")
    assert failed["data"]["type"] == "edit" and "edit_window_passed" in failed["data"]["error"]
    assert [m["kind"] for m in sent(client)] == ["text"]


# -- what a customer does (the phone side) arrives as WhatsApp delivers it ------------------------
def test_a_customers_reaction_edit_and_revoke_become_events_and_change_the_history(client, sandbox_session):
    mine = send_text(client, "¿Le gustó?")
    theirs = customer_says(client, "quiero 2")
    reaction = client.post("/api/sandbox/shop/react", json={"from": CUSTOMER, "messageId": mine, "emoji": "😍"})
    assert reaction.status_code == 200, reaction.get_json()
    [received] = [e for e in events(client, "message-received") if e["data"]["type"] == "reaction"]
    assert received["data"]["reaction"] == {"emoji": "😍", "messageId": mine, "removed": False}
    assert history(client, mine)["reactions"] == [{"from": CHAT, "emoji": "😍"}]
    assert client.post("/api/sandbox/shop/edit", json={"from": CUSTOMER, "messageId": theirs,
                                                      "text": "quiero 3"}).status_code == 200
    [edited] = events(client, "message-edited")
    assert edited["data"]["messageId"] == theirs and edited["data"]["text"] == "quiero 3"
    assert edited["data"]["from"] == CHAT and edited["data"]["editedAt"]
    row = history(client, theirs)
    assert (row["text"], row["originalText"], row["edited"]) == ("quiero 3", "quiero 2", True)
    assert client.post("/api/sandbox/shop/revoke", json={"from": CUSTOMER, "messageId": theirs}).status_code == 200
    [revoked] = events(client, "message-revoked")
    assert revoked["data"]["messageId"] == theirs and revoked["data"]["revokedBy"] == CHAT
    assert history(client, theirs)["revoked"]


def test_a_group_admin_revokes_a_participants_message_with_whatsmeows_admin_key(client, hub, sandbox_session):
    created = client.post("/api/sessions/shop/groups", json={"subject": "Ventas", "participants": [CUSTOMER]})
    assert created.status_code == 201, created.get_json()
    group = created.get_json()["group"]["groupId"]
    said = client.post("/api/sandbox/shop/inbound", json={"group": group, "from": CUSTOMER, "text": "spam"})
    target = said.get_json()["messageId"]
    reply = client.delete(f"/api/sessions/shop/messages/{target}")
    assert reply.status_code == 200, reply.get_json()
    revoke = sent(client)[-1]
    # whatsmeow BuildRevoke(chat, sender=the author): fromMe false, participant the author (Info.Edit "8").
    assert revoke["kind"] == "revoke" and revoke["key"] == {"messageId": target, "fromMe": False, "chat": group,
                                                            "participant": CHAT}
    assert history(client, target)["revoked"]
    edit = client.post(f"/api/sessions/shop/messages/{target}/edit", json={"text": "x"})
    assert edit.status_code == 409  # admins delete others' messages; they never edit them
