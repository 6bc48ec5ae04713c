"""Under real gunicorn, two sandbox sessions talk: A replies quoting B's message with a mention, A sends a
poll and B's phone votes; then the same while A is offline (queued, drained in order on reconnect)."""
from __future__ import annotations

import json

from tests.integration.hubproc import HubProcess
from tests.receivers import Receiver

A_PHONE, B_PHONE = "51911000001", "51922000002"
A_JID, B_JID = f"{A_PHONE}@s.whatsapp.net", f"{B_PHONE}@s.whatsapp.net"


def link(hub: HubProcess, session_id: str, phone: str) -> None:
    assert hub.post("/api/sessions", json={"sessionId": session_id, "engine": "sandbox", "start": True}).ok
    assert hub.post(f"/api/sandbox/{session_id}/scan", json={"phone": phone}).ok


def listen(hub: HubProcess, receiver: Receiver, session_id: str) -> None:
    base = receiver.url.rsplit("/", 1)[0]
    assert hub.post("/api/whatsapp/register-listener", json={
        "callbackUrl": f"{base}/{session_id}", "sessionId": session_id,
        "events": ["message-received", "poll-vote"]}).ok


def arrived(hub: HubProcess, receiver: Receiver, session_id: str, kind: str, count: int = 1) -> list[dict]:
    """The first `count` events of `kind` a session's listener got (waits for them)."""
    def found():
        posts = [json.loads(r["body"]) for r in list(receiver.requests) if r["path"] == f"/{session_id}"]
        events = [event for event in posts if event["type"] == kind]
        return events[:count] if len(events) >= count else None
    return hub.wait_for(found, timeout=20)


def send(hub: HubProcess, **body) -> dict:
    reply = hub.post("/api/whatsapp/send", json={"sessionId": "A", "to": B_PHONE, **body})
    assert reply.status_code in (200, 202), reply.text
    return reply.json()


def b_asks_a(hub: HubProcess, receiver: Receiver, text: str) -> str:
    """Sessions A and B linked, each with a listener; B writes to A: the id of B's message as A got it."""
    for session_id, phone in (("A", A_PHONE), ("B", B_PHONE)):
        link(hub, session_id, phone)
        listen(hub, receiver, session_id)
    asked = hub.post("/api/whatsapp/send", json={"sessionId": "B", "to": A_PHONE, "message": text}).json()
    [question] = arrived(hub, receiver, "A", "message-received")
    assert question["data"]["messageId"] == asked["messageId"] and question["data"]["from"] == B_JID
    return asked["messageId"]


def test_reply_with_mention_and_a_poll_vote_between_two_sandbox_sessions(tmp_path):
    with Receiver() as receiver, HubProcess(tmp_path, HUB_LOG_LEVEL="WARNING") as hub:
        asked = b_asks_a(hub, receiver, "¿Tienen talla M?")

        answer = send(hub, message=f"Sí @{B_PHONE}, la tenemos", replyTo=asked, mentions=[B_PHONE])
        [reply] = arrived(hub, receiver, "B", "message-received")
        assert reply["data"]["messageId"] == answer["messageId"] and reply["data"]["from"] == A_JID
        assert reply["data"]["quoted"] == {"messageId": asked, "from": B_JID, "text": "¿Tienen talla M?"}
        assert reply["data"]["mentions"] == [B_JID]
        assert reply["data"]["text"] == f"Sí @{B_PHONE}, la tenemos"

        poll = send(hub, poll={"question": "¿Horario de entrega?", "options": ["Mañana", "Tarde"]})["messageId"]
        _, received_poll = arrived(hub, receiver, "B", "message-received", 2)
        assert received_poll["data"]["poll"] == {"question": "¿Horario de entrega?", "options": ["Mañana", "Tarde"],
                                                 "multiple": False}
        assert hub.post("/api/sandbox/A/vote", json={"pollMessageId": poll, "options": ["Tarde"],
                                                     "from": B_PHONE}).ok
        [vote] = arrived(hub, receiver, "A", "poll-vote")
        assert vote["data"]["pollMessageId"] == poll and vote["data"]["selectedOptions"] == ["Tarde"]
        assert vote["data"]["from"] == B_JID


def test_queued_reply_and_poll_are_drained_in_order_when_the_sender_reconnects(tmp_path):
    with Receiver() as receiver, HubProcess(tmp_path, HUB_LOG_LEVEL="WARNING") as hub:
        asked = b_asks_a(hub, receiver, "¿Abren hoy?")
        assert hub.post("/api/sessions/A/stop").ok
        queued = [send(hub, message="Abrimos a las 9", replyTo=asked, mentions=[B_PHONE]),
                  send(hub, poll={"question": "¿Pasa hoy?", "options": ["sí", "no"]}),
                  send(hub, location={"latitude": -12.0464, "longitude": -77.0428, "name": "Tienda"})]
        assert [item["status"] for item in queued] == ["queued"] * 3
        assert hub.post("/api/sessions/A/connect").ok
        events = arrived(hub, receiver, "B", "message-received", 3)
        assert [e["data"]["type"] for e in events] == ["text", "poll", "location"]
        assert events[0]["data"]["quoted"]["messageId"] == asked and events[0]["data"]["mentions"] == [B_JID]
        poll = events[1]["data"]["messageId"]
        assert hub.post("/api/sandbox/A/vote", json={"pollMessageId": poll, "options": ["no"], "from": B_PHONE}).ok
        [vote] = arrived(hub, receiver, "A", "poll-vote")
        assert vote["data"]["selectedOptions"] == ["no"]
