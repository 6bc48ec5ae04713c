"""Mapping completeness: real neonize events, driven through a real NewClient's handlers the way
the Go side calls them, end up as the hub events DESIGN.md §5 describes."""
from __future__ import annotations

import hashlib
import logging

import pytest
from neonize.proto.waE2E import WAWebProtobufsE2E_pb2 as E
from sqlalchemy import func, select

from hub.sessions import builders
from hub.store import Event
from tests.sessions.neonize_helpers import go_delivers, live_neonize_engine, wait_until

CUSTOMER = "51987654321@s.whatsapp.net"
GROUP = "120363025246125486@g.us"
ME = "51911122233@s.whatsapp.net"


@pytest.fixture
def real(hub):
    """(hub, the live neonize engine of session 'real', its neonize client)."""
    engine, client = live_neonize_engine(hub, "real")
    return hub, engine, client


def recorded(hub, count: int) -> list[dict]:
    """Wait for the session to have `count` events recorded; return their envelopes, oldest first."""
    def events():
        with hub.store.session() as db:
            rows = db.scalars(select(Event).where(Event.session_id == "real").order_by(Event.seq)).all()
            return [row.envelope() for row in rows] if len(rows) >= count else None
    return wait_until(events)


def deliver_message(real, content: E.Message, **kwargs) -> dict:
    """One MessageEv from CUSTOMER through the client's handler -> the recorded envelope."""
    hub, _, client = real
    event = builders.message_event(content, kwargs.pop("chat", CUSTOMER), kwargs.pop("sender", CUSTOMER),
                                   push_name="Ana", **kwargs)
    go_delivers(client, event)
    envelope = recorded(hub, 1)[-1]
    assert envelope["data"]["messageId"] == event.Info.ID
    return envelope


def media(kind: str, **kwargs) -> E.Message:
    data = b"not really media"
    return builders.media_content(kind, mimetype=kwargs.pop("mimetype", "application/octet-stream"),
                                  length=len(data), sha256=hashlib.sha256(data).digest(),
                                  direct_path="/v/t62/abc", **kwargs)


def test_plain_conversation_text(real):
    envelope = deliver_message(real, builders.text_content("Hola, ¿tienen stock?"))
    data = envelope["data"]
    assert envelope["type"] == "message-received" and envelope["sandbox"] is False
    assert (data["type"], data["text"], data["from"], data["chatId"]) == ("text", "Hola, ¿tienen stock?", CUSTOMER, CUSTOMER)
    assert data["pushName"] == "Ana" and data["isGroup"] is False and data["fromMe"] is False
    assert data["timestamp"].endswith("Z")


def test_extended_text_and_ephemeral_wrapper(real):
    extended = E.Message(extendedTextMessage=E.ExtendedTextMessage(text="mira https://example.com"))
    assert deliver_message(real, extended)["data"]["text"] == "mira https://example.com"
    wrapped = E.Message(ephemeralMessage=E.FutureProofMessage(message=E.Message(conversation="desaparece")))
    hub, _, client = real
    go_delivers(client, builders.message_event(wrapped, CUSTOMER, CUSTOMER))
    assert recorded(hub, 2)[-1]["data"]["text"] == "desaparece"


@pytest.mark.parametrize("kind,mimetype,caption", [
    ("image", "image/jpeg", "la foto"),
    ("video", "video/mp4", "el video"),
    ("document", "application/pdf", "la factura"),
])
def test_media_with_caption(real, kind, mimetype, caption):
    extra = {"filename": "factura.pdf"} if kind == "document" else {}
    data = deliver_message(real, media(kind, mimetype=mimetype, caption=caption, **extra), media_type=kind)["data"]
    assert (data["type"], data["text"]) == (kind, caption)
    assert data["media"]["mimetype"] == mimetype
    # Not connected: the download fails, and the event still goes out saying so.
    assert data["media"]["error"]
    if kind == "document":
        assert data["media"]["originalName"] == "factura.pdf"


def test_voice_note_and_plain_audio(real):
    voice = media("audio", mimetype="audio/ogg; codecs=opus")
    voice.audioMessage.PTT = True
    data = deliver_message(real, voice, media_type="audio")["data"]
    assert (data["type"], data["voice"]) == ("audio", True)
    hub, _, client = real
    go_delivers(client, builders.message_event(media("audio", mimetype="audio/mpeg"), CUSTOMER, CUSTOMER))
    assert recorded(hub, 2)[-1]["data"]["voice"] is False


def test_sticker(real):
    data = deliver_message(real, media("sticker", mimetype="image/webp"), media_type="sticker")["data"]
    assert (data["type"], data["text"]) == ("sticker", "")


def test_location(real):
    location = E.Message(locationMessage=E.LocationMessage(degreesLatitude=-12.0464, degreesLongitude=-77.0428,
                                                           name="Plaza de Armas", address="Lima"))
    data = deliver_message(real, location)["data"]
    assert data["type"] == "location"
    assert data["location"] == {"latitude": -12.0464, "longitude": -77.0428, "name": "Plaza de Armas",
                                "address": "Lima"}


def test_contact_card(real):
    vcard = "BEGIN:VCARD\nVERSION:3.0\nFN:Luis\nTEL;waid=51900011122:+51 900 011 122\nEND:VCARD"
    data = deliver_message(real, E.Message(contactMessage=E.ContactMessage(displayName="Luis", vcard=vcard)))["data"]
    assert data["type"] == "contact"
    assert data["contacts"] == [{"displayName": "Luis", "vcard": vcard}]


def test_reaction_names_the_message_it_reacts_to(real):
    data = deliver_message(real, builders.reaction_content("👍", "3EB0AAAABBBBCCCCDDDD11", CUSTOMER))["data"]
    assert data["type"] == "reaction"
    assert data["reaction"] == {"emoji": "👍", "messageId": "3EB0AAAABBBBCCCCDDDD11", "removed": False}


def test_group_message_tells_sender_from_chat(real):
    data = deliver_message(real, builders.text_content("hola grupo"), chat=GROUP, is_group=True)["data"]
    assert (data["chatId"], data["from"], data["isGroup"]) == (GROUP, CUSTOMER, True)


def test_message_sent_from_the_phone_is_message_from_me(real):
    envelope = deliver_message(real, builders.text_content("te escribo yo"), sender=ME, from_me=True)
    assert envelope["type"] == "message-from-me"
    assert (envelope["data"]["fromMe"], envelope["data"]["from"]) == (True, ME)


@pytest.mark.parametrize("kind,event_type", [("delivered", "message-delivered"), ("read", "message-read")])
def test_receipts(real, kind, event_type):
    hub, _, client = real
    go_delivers(client, builders.receipt_event(["3EB0111", "3EB0222"], CUSTOMER, kind))
    envelope = recorded(hub, 1)[-1]
    assert envelope["type"] == event_type
    assert envelope["data"]["messageIds"] == ["3EB0111", "3EB0222"]
    assert envelope["data"]["chatId"] == CUSTOMER


def test_unknown_message_kinds_are_other_and_never_raise(real, caplog):
    poll = E.Message(pollCreationMessage=E.PollCreationMessage(name="¿Pizza?"))
    with caplog.at_level(logging.ERROR):
        data = deliver_message(real, poll)["data"]
    assert (data["type"], data["text"]) == ("other", "")
    hub, _, client = real
    go_delivers(client, builders.message_event(E.Message(), CUSTOMER, CUSTOMER))  # nothing in it at all
    assert recorded(hub, 2)[-1]["data"]["type"] == "other"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_events_the_hub_does_not_map_are_ignored(real):
    hub, _, client = real
    from neonize.proto import Neonize_pb2 as N

    go_delivers(client, N.KeepAliveTimeout(ErrorCount=1, LastSuccess=0))
    go_delivers(client, N.OfflineSyncCompleted(Count=3))
    go_delivers(client, builders.message_event(builders.text_content("after"), CUSTOMER, CUSTOMER))
    assert recorded(hub, 1)[-1]["data"]["text"] == "after"
    with hub.store.session() as db:
        assert db.scalar(select(func.count()).select_from(Event).where(Event.session_id == "real")) == 1
