"""The sandbox phone side sends every kind back: location, contact, poll, a reply quoting the session's
message, mentions (POST /api/sandbox/<id>/inbound), and a vote on the session's poll (/vote)."""
from __future__ import annotations

from neonize.proto.waE2E import WAWebProtobufsE2E_pb2 as E
from sqlalchemy import select

from hub.sessions import builders
from hub.store.sandbox import SandboxQueued
from tests.outbound.helpers import events

CUSTOMER = "51987654321"


def customer(client, **body):
    reply = client.post("/api/sandbox/shop/inbound", json={"from": CUSTOMER, "pushName": "Ana", **body})
    assert reply.status_code == 200, reply.get_json()
    return reply.get_json()["messageId"]


def received(client, message_id: str) -> dict:
    return next(e["data"] for e in events(client, "message-received") if e["data"]["messageId"] == message_id)


def delivered_content(hub, message_id: str) -> E.Message:
    """The waE2E content the simulated servers delivered to the session's device."""
    from neonize.proto import Neonize_pb2 as N

    with hub.store.session() as db:
        payload = db.scalars(select(SandboxQueued.payload).where(SandboxQueued.message_id == message_id)).one()
    return N.Message.FromString(payload).Message


def session_sends(client, **body) -> str:
    reply = client.post("/api/whatsapp/send", json={"sessionId": "shop", "to": CUSTOMER, **body})
    assert reply.status_code == 200, reply.get_json()
    return reply.get_json()["messageId"]


def test_a_customer_replies_quoting_the_sessions_message_and_mentions_someone(client, hub, sandbox_session):
    ours = session_sends(client, message="¿Confirma su pedido?")
    own_jid = client.get("/api/sessions/shop").get_json()["session"]["jid"]
    message_id = customer(client, text="Sí, y avise a @51911222333", replyTo=ours, mentions=["51911222333"])
    data = received(client, message_id)
    assert data["quoted"] == {"messageId": ours, "from": own_jid, "text": "¿Confirma su pedido?"}
    assert data["mentions"] == ["51911222333@s.whatsapp.net"]
    # as WhatsApp delivers a reply: extendedTextMessage.contextInfo{stanzaID, participant, quotedMessage}
    context = delivered_content(hub, message_id).extendedTextMessage.contextInfo
    assert (context.stanzaID, context.participant) == (ours, own_jid)
    assert context.quotedMessage.conversation == "¿Confirma su pedido?"
    history = client.get("/api/messages/shop").get_json()["messages"]
    row = next(m for m in history if m["messageId"] == message_id)
    assert (row["quotedId"], row["mentions"]) == (ours, ["51911222333@s.whatsapp.net"])


def test_a_customer_shares_a_location_a_contact_and_a_poll(client, hub, sandbox_session):
    place = customer(client, location={"latitude": -12.1, "longitude": -77.03, "name": "Casa"})
    assert received(client, place)["location"] == {"latitude": -12.1, "longitude": -77.03, "name": "Casa",
                                                   "address": None}
    card = customer(client, contact={"name": "Luis", "phone": "+51 944 555 666"})
    data = received(client, card)
    assert data["type"] == "contact" and data["contacts"][0]["name"] == "Luis"
    assert "waid=51944555666" in data["contacts"][0]["vcard"]
    poll = customer(client, poll={"question": "¿Cuándo?", "options": ["hoy", "mañana"]})
    assert received(client, poll)["poll"] == {"question": "¿Cuándo?", "options": ["hoy", "mañana"],
                                              "multiple": False}
    assert len(delivered_content(hub, poll).messageContextInfo.messageSecret) == 32  # BuildPollCreation


def test_a_vote_on_the_sessions_poll_reaches_listeners_with_the_options_text(client, hub, sandbox_session):
    poll = session_sends(client, poll={"question": "¿Horario?", "options": ["Mañana", "Tarde", "Noche"]})
    reply = client.post("/api/sandbox/shop/vote", json={"pollMessageId": poll, "options": ["Tarde"], "from": CUSTOMER})
    assert reply.status_code == 200, reply.get_json()
    [vote] = events(client, "poll-vote")
    assert vote["data"]["pollMessageId"] == poll and vote["data"]["selectedOptions"] == ["Tarde"]
    assert vote["data"]["from"] == f"{CUSTOMER}@s.whatsapp.net"
    # whatsmeow BuildPollVote: pollUpdateMessage{pollCreationMessageKey (the poll's chat and id), vote}
    update = delivered_content(hub, reply.get_json()["messageId"]).pollUpdateMessage
    assert (update.pollCreationMessageKey.ID, update.pollCreationMessageKey.fromMe) == (poll, False)
    assert E.PollVoteMessage.FromString(update.vote.encPayload).selectedOptions == \
        builders.poll_option_hashes(["Tarde"])


def test_bad_votes_and_phone_side_input(client, hub, sandbox_session):
    poll = session_sends(client, poll={"question": "¿Horario?", "options": ["Mañana", "Tarde"]})
    text = session_sends(client, message="no es una encuesta")
    vote = lambda **body: client.post("/api/sandbox/shop/vote", json={"from": CUSTOMER, **body})  # noqa: E731
    assert vote(pollMessageId=poll, options=["Siempre"]).get_json()["error"] == "invalid_vote"
    assert vote(pollMessageId=poll, options=["Mañana", "Tarde"]).get_json()["error"] == "invalid_vote"  # single
    assert vote(pollMessageId=text, options=["Tarde"]).status_code == 404
    bad = client.post("/api/sandbox/shop/inbound", json={"from": CUSTOMER, "location": {"latitude": 100,
                                                                                       "longitude": 0}})
    assert bad.status_code == 400 and bad.get_json()["error"] == "invalid_location"
    assert events(client, "poll-vote") == [] and events(client, "message-received") == []
