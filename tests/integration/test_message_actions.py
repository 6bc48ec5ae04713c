"""Under real gunicorn, two sandbox sessions: A reacts, edits and deletes; B's listener gets each as WhatsApp delivers
it; A's read receipts reach B; the same actions queued while A is offline are drained in order on reconnect."""
from __future__ import annotations

from tests.integration.hubproc import HubProcess
from tests.integration.test_messaging_kinds import A_JID, A_PHONE, B_JID, B_PHONE, arrived, link, send
from tests.receivers import Receiver

EVENTS = ["message-received", "message-edited", "message-revoked", "message-read", "chat-presence"]


def listen(hub: HubProcess, receiver: Receiver, session_id: str) -> None:
    base = receiver.url.rsplit("/", 1)[0]
    assert hub.post("/api/whatsapp/register-listener", json={
        "callbackUrl": f"{base}/{session_id}", "sessionId": session_id, "events": EVENTS}).ok


def two_sessions_talking(hub: HubProcess, receiver: Receiver) -> tuple[str, str]:
    """A and B linked and listened to; B asked A something and A answered: (B's question id, A's answer id)."""
    link(hub, "A", A_PHONE)
    link(hub, "B", B_PHONE)
    listen(hub, receiver, "A")
    listen(hub, receiver, "B")
    asked = hub.post("/api/whatsapp/send", json={"sessionId": "B", "to": A_PHONE, "message": "¿Precio?"}).json()
    arrived(hub, receiver, "A", "message-received")
    answer = send(hub, message="S/ 10")
    arrived(hub, receiver, "B", "message-received")
    return asked["messageId"], answer["messageId"]


def act(hub: HubProcess, asked: str, answer: str) -> list[dict]:
    """A reacts to B's question, edits its answer, then deletes it."""
    return [hub.post(f"/api/sessions/A/messages/{asked}/reaction", json={"emoji": "👍"}).json(),
            hub.post(f"/api/sessions/A/messages/{answer}/edit", json={"text": "S/ 12"}).json(),
            hub.delete(f"/api/sessions/A/messages/{answer}").json()]


def check_b_received(hub: HubProcess, receiver: Receiver, asked: str, answer: str) -> None:
    _, reaction = arrived(hub, receiver, "B", "message-received", 2)
    assert reaction["data"]["type"] == "reaction" and reaction["data"]["from"] == A_JID
    assert reaction["data"]["reaction"] == {"emoji": "👍", "messageId": asked, "removed": False}
    [edited] = arrived(hub, receiver, "B", "message-edited")
    assert (edited["data"]["messageId"], edited["data"]["text"], edited["data"]["from"]) == (answer, "S/ 12", A_JID)
    [revoked] = arrived(hub, receiver, "B", "message-revoked")
    assert revoked["data"]["messageId"] == answer and revoked["data"]["revokedBy"] == A_JID
    history = hub.get(f"/api/sessions/B/chats/{A_PHONE}/messages").json()["messages"]
    row = next(m for m in history if m["messageId"] == answer)
    assert (row["text"], row["originalText"], row["revoked"]) == ("S/ 12", "S/ 10", True)
    assert next(m for m in history if m["messageId"] == asked)["reactions"] == [{"from": A_JID, "emoji": "👍"}]


def test_reaction_edit_revoke_and_read_reach_the_other_session(tmp_path):
    with Receiver() as receiver, HubProcess(tmp_path, HUB_LOG_LEVEL="WARNING") as hub:
        asked, answer = two_sessions_talking(hub, receiver)
        assert [reply["status"] for reply in act(hub, asked, answer)] == ["sent"] * 3
        check_b_received(hub, receiver, asked, answer)
        read = hub.post(f"/api/sessions/A/chats/{B_PHONE}/read", json={})
        assert read.status_code == 200 and read.json()["messageIds"] == [asked]
        [receipt] = arrived(hub, receiver, "B", "message-read")
        assert receipt["data"]["messageIds"] == [asked] and receipt["data"]["from"] == A_JID
        for state in ("typing", "paused"):
            shown = hub.post(f"/api/sessions/A/chats/{B_PHONE}/presence", json={"state": state})
            assert shown.status_code == 200 and shown.json()["chatId"] == B_JID
        typing, paused = arrived(hub, receiver, "B", "chat-presence", 2)
        assert (typing["data"]["state"], typing["data"]["from"], typing["data"]["chatId"]) == ("typing", A_JID, A_JID)
        assert paused["data"]["state"] == "paused"


def test_actions_queued_while_offline_are_drained_in_order_on_reconnect(tmp_path):
    with Receiver() as receiver, HubProcess(tmp_path, HUB_LOG_LEVEL="WARNING") as hub:
        asked, answer = two_sessions_talking(hub, receiver)
        assert hub.post("/api/sessions/A/stop").ok
        assert [reply["status"] for reply in act(hub, asked, answer)] == ["queued"] * 3
        offline = hub.post(f"/api/sessions/A/chats/{B_PHONE}/read", json={})
        assert offline.status_code == 409 and offline.json()["error"] == "session_not_connected"
        assert hub.post("/api/sessions/A/connect").ok
        check_b_received(hub, receiver, asked, answer)
