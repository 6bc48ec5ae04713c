"""POST /api/whatsapp/send with replyTo, mentions, linkPreview, location, contact, poll, voice and sticker.

Each test checks what the recipient's phone got (the simulated WhatsApp's record), the protobuf the
hub handed neonize's send_message (against the whatsmeow / neonize function that defines it), the
message-sent event and the history row; bad input answers 400 and queues nothing.
"""
from __future__ import annotations

import base64

import pytest
from neonize.proto.waE2E import WAWebProtobufsE2E_pb2 as E
from sqlalchemy import select

from hub.store import Message
from hub.store.sandbox import SandboxSent
from tests.outbound.helpers import PNG, FileServer, events, outbound_count, sent

CUSTOMER = "51987654321@s.whatsapp.net"


def send(client, **body):
    return client.post("/api/whatsapp/send", json={"sessionId": "shop", "to": "51987654321", **body})


def wire(hub) -> E.Message:
    """The waE2E Message of the session's last send, as the recipient's device received it."""
    with hub.store.session() as db:
        payload = db.scalars(select(SandboxSent.payload).order_by(SandboxSent.seq.desc()).limit(1)).one()
    return E.Message.FromString(payload)


def customer_says(client, text: str) -> str:
    reply = client.post("/api/sandbox/shop/inbound", json={"from": "51987654321", "text": text, "pushName": "Ana"})
    assert reply.status_code == 200, reply.get_json()
    return reply.get_json()["messageId"]


def history(hub, message_id: str) -> Message:
    with hub.store.session() as db:
        return db.scalars(select(Message).where(Message.message_id == message_id)).one()


def test_reply_quotes_the_message_from_history_with_its_sender_and_text(client, hub, sandbox_session):
    asked = customer_says(client, "¿Tienen talla M?")
    reply = send(client, message="Sí, la tenemos", replyTo=asked)
    assert reply.status_code == 200, reply.get_json()
    # neonize build_reply_message / _make_quoted_message: extendedTextMessage.contextInfo
    # {stanzaID, participant (the quoted sender, non-AD JID), quotedMessage}
    context = wire(hub).extendedTextMessage.contextInfo
    assert (context.stanzaID, context.participant, context.quotedMessage.conversation) == \
        (asked, CUSTOMER, "¿Tienen talla M?")
    [received] = sent(client)
    assert received["quoted"] == {"messageId": asked, "from": CUSTOMER, "text": "¿Tienen talla M?"}
    [event] = events(client, "message-sent")
    assert event["data"]["quoted"] == {"messageId": asked} and event["data"]["type"] == "text"
    assert history(hub, reply.get_json()["messageId"]).quoted_id == asked


def test_reply_to_an_unknown_id_is_quoted_by_id_alone(client, hub, sandbox_session):
    assert send(client, message="Sobre su mensaje", replyTo="3EB0AAAABBBBCCCCDDDD").status_code == 200
    context = wire(hub).extendedTextMessage.contextInfo
    assert context.stanzaID == "3EB0AAAABBBBCCCCDDDD"
    assert not context.participant and not context.HasField("quotedMessage")


def test_mentions_go_to_context_info_and_the_text_keeps_the_number(client, hub, sandbox_session):
    reply = send(client, message="Hola @51911222333, te presento a @51944555666",
                 mentions=["+51 911 222 333", "51944555666@c.us", 51911222333])
    assert reply.status_code == 200, reply.get_json()
    message = wire(hub).extendedTextMessage  # neonize send_message: ExtendedTextMessage.contextInfo.mentionedJID
    assert message.text == "Hola @51911222333, te presento a @51944555666"
    assert list(message.contextInfo.mentionedJID) == ["51911222333@s.whatsapp.net", "51944555666@s.whatsapp.net"]
    [event] = events(client, "message-sent")
    assert event["data"]["mentions"] == ["51911222333@s.whatsapp.net", "51944555666@s.whatsapp.net"]
    assert history(hub, reply.get_json()["messageId"]).to_dict()["mentions"] == event["data"]["mentions"]


def test_a_caption_quotes_and_mentions_too(client, hub, sandbox_session):
    asked = customer_says(client, "¿Foto del producto?")
    reply = send(client, message="Aquí está, @51911222333", replyTo=asked, mentions=["51911222333"],
                 media={"base64": base64.b64encode(PNG).decode(), "mimetype": "image/png"})
    assert reply.status_code == 200, reply.get_json()
    image = wire(hub).imageMessage  # neonize build_image_message + the quote's contextInfo merged in
    assert image.caption == "Aquí está, @51911222333"
    assert image.contextInfo.stanzaID == asked
    assert list(image.contextInfo.mentionedJID) == ["51911222333@s.whatsapp.net"]


def test_location_is_a_location_message(client, hub, sandbox_session):
    reply = send(client, location={"latitude": -12.0464, "longitude": -77.0428, "name": "Tienda Lima",
                                   "address": "Av. Larco 345"})
    assert reply.status_code == 200, reply.get_json()
    place = wire(hub).locationMessage  # waE2E.LocationMessage, as a phone shares a place
    assert (place.degreesLatitude, place.degreesLongitude, place.name, place.address) == \
        (-12.0464, -77.0428, "Tienda Lima", "Av. Larco 345")
    [received] = sent(client)
    assert received["kind"] == "location" and received["location"]["latitude"] == -12.0464
    [event] = events(client, "message-sent")
    assert event["data"]["type"] == "location" and event["data"]["location"]["name"] == "Tienda Lima"


def test_contact_from_name_and_phone_is_neonizes_vcard(client, hub, sandbox_session):
    from neonize.utils import gen_vcard

    assert send(client, contact={"name": "Ana Pérez", "phone": "+51 987 654 321"}).status_code == 200
    card = wire(hub).contactMessage  # neonize send_contact: ContactMessage{displayName, gen_vcard(name, phone)}
    assert card.displayName == "Ana Pérez" and card.vcard == gen_vcard("Ana Pérez", "51987654321")
    assert sent(client)[0]["contacts"][0]["name"] == "Ana Pérez"


def test_contact_as_a_raw_vcard_takes_its_name(client, hub, sandbox_session):
    vcard = "BEGIN:VCARD\nVERSION:3.0\nFN:Soporte Tienda\nTEL;waid=51999888777:+51 999 888 777\nEND:VCARD"
    assert send(client, contact={"vcard": vcard}).status_code == 200
    assert (wire(hub).contactMessage.displayName, wire(hub).contactMessage.vcard) == ("Soporte Tienda", vcard)


def test_poll_is_whatsmeows_poll_creation_with_a_message_secret(client, hub, sandbox_session):
    reply = send(client, poll={"question": "¿Horario?", "options": ["Mañana", "Tarde", "Noche"]})
    assert reply.status_code == 200, reply.get_json()
    message = wire(hub)  # whatsmeow BuildPollCreation (through goneonize BuildPollVoteCreation)
    assert message.pollCreationMessage.name == "¿Horario?"
    assert [o.optionName for o in message.pollCreationMessage.options] == ["Mañana", "Tarde", "Noche"]
    assert message.pollCreationMessage.selectableOptionsCount == 1
    assert len(message.messageContextInfo.messageSecret) == 32
    [event] = events(client, "message-sent")
    assert event["data"]["poll"] == {"question": "¿Horario?", "options": ["Mañana", "Tarde", "Noche"],
                                     "selectableCount": 1, "multiple": False}
    assert event["data"]["type"] == "poll"


def test_a_multiple_choice_poll_lets_voters_pick_any_number(client, hub, sandbox_session):
    assert send(client, poll={"question": "¿Qué colores?", "options": ["rojo", "azul"], "multiple": True}
                ).status_code == 200
    assert wire(hub).pollCreationMessage.selectableOptionsCount == 0
    assert sent(client)[0]["poll"]["multiple"] is True


def test_link_preview_as_given(client, hub, sandbox_session):
    reply = send(client, message="Vea https://tienda.example/oferta hoy",
                 linkPreview={"title": "Oferta", "description": "30% menos"})
    assert reply.status_code == 200, reply.get_json()
    text = wire(hub).extendedTextMessage  # neonize _generate_link_preview's fields
    assert (text.matchedText, text.title, text.description) == ("https://tienda.example/oferta", "Oferta",
                                                                "30% menos")


def test_link_preview_true_fetches_the_page_title_on_loopback(client, hub, sandbox_session):
    page = b"<html><head><title>Ignored</title><meta property='og:title' content='Zapatos &amp; m\xc3\xa1s'>" \
           b"<meta name=\"description\" content=\"Lo mejor\"></head></html>"
    server = FileServer({"/p": (200, "text/html; charset=utf-8", page)})
    try:
        url = server.url("/p")
        assert send(client, message=f"Mire {url}", linkPreview=True).status_code == 200
    finally:
        server.close()
    text = wire(hub).extendedTextMessage
    assert (text.matchedText, text.title, text.description) == (url, "Zapatos & más", "Lo mejor")


def test_link_preview_of_a_page_that_cannot_be_fetched_still_sends_the_link(client, hub, sandbox_session):
    server = FileServer({})
    url = server.url("/gone")
    try:
        assert send(client, message=f"Mire {url}", linkPreview=True).status_code == 200
    finally:
        server.close()
    text = wire(hub).extendedTextMessage
    assert text.matchedText == url and not text.title


def test_voice_note_is_ptt_ogg_opus(client, hub, sandbox_session):
    from tests.media_samples import wav

    reply = send(client, media={"base64": base64.b64encode(wav()).decode(), "mimetype": "audio/wav",
                                "voice": True})
    assert reply.status_code == 200, reply.get_json()
    audio = wire(hub).audioMessage  # neonize build_audio_message(ptt=True) of the converted ogg/opus
    assert audio.PTT and audio.mimetype.startswith("audio/ogg")
    assert events(client, "message-sent")[0]["data"]["type"] == "voice"


BAD = [
    ({"message": "x", "replyTo": "not an id!"}, "invalid_reply_to"),
    ({"message": "x", "replyTo": "3EB0-C767"}, "invalid_reply_to"),
    ({"location": {"latitude": 91, "longitude": 0}}, "invalid_location"),
    ({"location": {"latitude": 0, "longitude": -180.5}}, "invalid_location"),
    ({"poll": {"question": "?", "options": ["solo"]}}, "invalid_poll"),
    ({"poll": {"question": "?", "options": [str(n) for n in range(13)]}}, "invalid_poll"),
    ({"poll": {"question": "?", "options": ["sí", "no", "sí"]}}, "invalid_poll"),
    ({"poll": {"question": " ", "options": ["sí", "no"]}}, "invalid_poll"),
    ({"poll": {"question": "?", "options": ["sí", "no"], "selectableCount": 3}}, "invalid_poll"),
    ({"message": "hola @x", "mentions": ["ana"]}, "invalid_mentions"),
    ({"message": "hola", "mentions": ["120363025246125486@g.us"]}, "invalid_mentions"),
    ({"contact": {"name": "Ana"}}, "invalid_contact"),
    ({"contact": {"name": "Ana", "phone": "12"}}, "invalid_contact"),
    ({"contact": {"vcard": "FN:Ana"}}, "invalid_contact"),
    ({"message": "hola", "location": {"latitude": 1, "longitude": 1}}, "conflicting_content"),
    ({"poll": {"question": "?", "options": ["a", "b"]}, "location": {"latitude": 1, "longitude": 1}},
     "conflicting_content"),
    ({"message": "sin enlace", "linkPreview": True}, "invalid_link_preview"),
    ({"media": {"base64": base64.b64encode(b"not audio at all").decode(), "mimetype": "audio/ogg", "voice": True}},
     "unsupported_media"),
    ({"media": {"base64": base64.b64encode(b"not an image").decode(), "mimetype": "image/png", "sticker": True}},
     "unsupported_media"),
]


@pytest.mark.parametrize(("body", "code"), BAD, ids=[code + str(n) for n, (_, code) in enumerate(BAD)])
def test_bad_input_is_a_400_with_its_code_and_nothing_is_queued(client, hub, sandbox_session, body, code):
    reply = send(client, **body)
    assert reply.status_code == 400, reply.get_json()
    assert reply.get_json()["error"] == code and reply.get_json()["success"] is False
    assert outbound_count(hub) == 0 and sent(client) == []


def test_queued_send_keeps_its_quote_and_poll_until_the_session_connects(client, hub):
    from hub.outbound import queue

    client.post("/api/sessions", json={"sessionId": "shop", "engine": "sandbox", "start": True})
    first = send(client, message="Respuesta", replyTo="3EB0AAAABBBBCCCCDDDD", mentions=["51911222333"])
    second = send(client, poll={"question": "¿Sí?", "options": ["sí", "no"]})
    assert first.status_code == second.status_code == 202
    client.post("/api/sandbox/shop/scan", json={})
    assert queue.drain(hub, "shop") == 2
    first_sent, poll_sent = sent(client)
    assert first_sent["quoted"]["messageId"] == "3EB0AAAABBBBCCCCDDDD"
    assert first_sent["mentions"] == ["51911222333@s.whatsapp.net"]
    assert poll_sent["kind"] == "poll" and poll_sent["poll"]["options"] == ["sí", "no"]


def test_openapi_shows_an_example_of_each_kind_and_the_hub_accepts_them(client, hub, sandbox_session):
    doc = client.get("/openapi.json").get_json()
    body = doc["paths"]["/api/whatsapp/send"]["post"]["requestBody"]["content"]["application/json"]
    examples = {name: example["value"] for name, example in body["examples"].items()}
    assert {"text", "reply", "linkPreview", "image", "document", "voice", "sticker", "location", "contact",
            "poll"} <= examples.keys()
    offline = ("media", "linkPreview")  # they would fetch from the example's (non-loopback) host
    for name, example in examples.items():
        if not any(key in example for key in offline):
            reply = client.post("/api/whatsapp/send", json={**example, "sessionId": "shop"})
            assert reply.status_code == 200, (name, reply.get_json())
    assert [m["kind"] for m in sent(client)] == ["text", "text", "location", "contact", "poll"]
