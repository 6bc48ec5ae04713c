"""Mapping completeness: real neonize events, driven through a real NewClient's handlers the way
the Go side calls them, end up as the hub events README.md ("Events") describes (message contents here;
revokes, edits, receipts, status posts, LIDs, polls and undecryptable messages in test_mapping_events)."""
from __future__ import annotations

import hashlib
import logging

import pytest
from neonize.proto import Neonize_pb2 as N
from neonize.proto.waE2E import WAWebProtobufsE2E_pb2 as E

from hub.sessions import builders
from tests.sessions.mapping_helpers import (
    CUSTOMER,
    GROUP,
    ME,
    deliver,
    deliver_message,
    event_count,
    nothing_recorded_for,
    spec,
)


def media(kind: str, **kwargs) -> E.Message:
    data = b"not really media"
    return builders.media_content(kind, mimetype=kwargs.pop("mimetype", "application/octet-stream"),
                                  length=len(data), sha256=hashlib.sha256(data).digest(),
                                  direct_path="/v/t62/abc", **kwargs)


def test_plain_conversation_text(real):
    envelope = deliver_message(real, builders.text_content("Hola, ¿tienen stock?"))
    data = envelope["data"]
    assert envelope["type"] == "message-received" and envelope["sandbox"] is False
    assert (data["type"], data["text"]) == ("text", "Hola, ¿tienen stock?")
    assert (data["from"], data["chatId"]) == (CUSTOMER, CUSTOMER)
    assert data["pushName"] == "Ana" and data["isGroup"] is False and data["fromMe"] is False
    assert data["timestamp"].endswith("Z")
    assert "quoted" not in data and "mentions" not in data and "fromLid" not in data


def test_timestamp_is_whatsapps_in_milliseconds_as_goneonize_sends_it(real):
    data = deliver_message(real, builders.text_content("hora"), timestamp=1795344671)["data"]
    assert data["timestamp"] == "2026-11-22T10:51:11.000Z"


def test_extended_text_and_ephemeral_wrapper(real):
    extended = E.Message(extendedTextMessage=E.ExtendedTextMessage(text="mira https://example.com"))
    assert deliver_message(real, extended)["data"]["text"] == "mira https://example.com"
    wrapped = E.Message(ephemeralMessage=E.FutureProofMessage(message=E.Message(conversation="desaparece")))
    assert deliver_message(real, wrapped)["data"]["text"] == "desaparece"


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
    assert deliver_message(real, media("audio", mimetype="audio/mpeg"))["data"]["voice"] is False


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


VCARD = "BEGIN:VCARD\nVERSION:3.0\nFN:Luis\nTEL;waid=51900011122:+51 900 011 122\nEND:VCARD"


def test_contact_card_has_name_as_design_says_and_display_name_as_before(real):
    data = deliver_message(real, E.Message(contactMessage=E.ContactMessage(displayName="Luis", vcard=VCARD)))["data"]
    assert (data["type"], data["text"]) == ("contact", "Luis")
    assert data["contacts"] == [{"name": "Luis", "displayName": "Luis", "vcard": VCARD}]


def test_several_contacts(real):
    cards = [E.ContactMessage(displayName=name, vcard=VCARD.replace("Luis", name)) for name in ("Luis", "Rosa")]
    array = E.Message(contactsArrayMessage=E.ContactsArrayMessage(displayName="2 contactos", contacts=cards))
    data = deliver_message(real, array)["data"]
    assert (data["type"], data["text"]) == ("contact", "2 contactos")
    assert [(c["name"], "FN:" + c["name"] in c["vcard"]) for c in data["contacts"]] == [("Luis", True), ("Rosa", True)]


def test_reaction_names_the_message_it_reacts_to_and_its_removal(real):
    data = deliver_message(real, builders.reaction_content("👍", "3EB0AAAABBBBCCCCDDDD11", CUSTOMER))["data"]
    assert data["type"] == "reaction"
    assert data["reaction"] == {"emoji": "👍", "messageId": "3EB0AAAABBBBCCCCDDDD11", "removed": False}
    removed = deliver_message(real, builders.reaction_content("", "3EB0AAAABBBBCCCCDDDD11", CUSTOMER))["data"]
    assert removed["reaction"] == {"emoji": "", "messageId": "3EB0AAAABBBBCCCCDDDD11", "removed": True}


def test_encrypted_reaction_says_a_reaction_came(real):
    target = builders.message_key(GROUP, "3EB0TARGET000000000001", from_me=True)
    data = deliver_message(real, builders.enc_reaction_content(target), chat=GROUP, sender=CUSTOMER)["data"]
    assert (data["type"], data["text"]) == ("reaction", "")
    assert data["reaction"] == {"messageId": "3EB0TARGET000000000001", "emoji": None, "encrypted": True}


@pytest.mark.parametrize("content,kind,option_id,title", [
    (builders.button_reply_content("btn-yes", "Sí, confirmo"), "button", "btn-yes", "Sí, confirmo"),
    (builders.list_reply_content("row-lima", "Envío a Lima", description="24 h"), "list", "row-lima", "Envío a Lima"),
    (builders.template_reply_content("tpl-2", "Hablar con un asesor", index=1), "template", "tpl-2",
     "Hablar con un asesor"),
    (builders.interactive_reply_content("Ver catálogo", name="quick_reply", params_json='{"id": "cat-1"}'),
     "interactive", "cat-1", "Ver catálogo"),
])
def test_button_list_template_and_interactive_replies_are_text_with_the_reply(real, content, kind, option_id, title):
    data = deliver_message(real, content)["data"]
    assert (data["type"], data["text"]) == ("text", title)
    assert data["reply"] == {"kind": kind, "id": option_id, "title": title}


def test_interactive_reply_without_an_id_in_its_params_names_the_flow(real):
    content = builders.interactive_reply_content("Enviado", name="address_message", params_json="not json")
    assert deliver_message(real, content)["data"]["reply"] == {"kind": "interactive", "id": "address_message",
                                                              "title": "Enviado"}


@pytest.mark.parametrize("version", [1, 2, 3])
def test_poll_creation(real, version):
    single = builders.poll_creation_content("¿Qué sabor?", ["Fresa", "Lúcuma"], 1, version=version)
    data = deliver_message(real, single)["data"]
    assert (data["type"], data["text"]) == ("poll", "¿Qué sabor?")
    assert data["poll"] == {"question": "¿Qué sabor?", "options": ["Fresa", "Lúcuma"], "multiple": False}
    several = builders.poll_creation_content("¿Qué días?", ["lunes", "martes", "jueves"], 0, version=version)
    assert deliver_message(real, several)["data"]["poll"]["multiple"] is True


def test_reply_quotes_the_message_with_its_text(real):
    quoted = builders.context_info(quoted_id="3EB0QUOTED", quoted_sender=ME, quoted=builders.text_content("¿Talla?"))
    data = deliver_message(real, builders.text_content("la M, por favor", context=quoted))["data"]
    assert (data["type"], data["text"]) == ("text", "la M, por favor")
    assert data["quoted"] == {"messageId": "3EB0QUOTED", "from": ME, "text": "¿Talla?"}


def test_media_quoting_media_and_mentions(real):
    quoted_image = media("image", mimetype="image/jpeg", caption="modelo A")
    context = builders.context_info(quoted_id="3EB0PHOTO", quoted_sender=f"{ME.split('@')[0]}:3@s.whatsapp.net",
                                    quoted=quoted_image, mentions=[ME, "51900011122@s.whatsapp.net"])
    photo = media("image", mimetype="image/jpeg", caption="¿este? @Tienda @Luis", context=context)
    data = deliver_message(real, photo, chat=GROUP, sender=CUSTOMER, media_type="image")["data"]
    assert data["quoted"] == {"messageId": "3EB0PHOTO", "from": ME, "text": "modelo A"}
    assert data["mentions"] == [ME, "51900011122@s.whatsapp.net"]


def test_quote_of_a_message_whose_content_is_not_included(real):
    context = builders.context_info(quoted_id="3EB0OLD", quoted_sender=CUSTOMER)
    data = deliver_message(real, builders.text_content("sigo esperando", context=context))["data"]
    assert data["quoted"] == {"messageId": "3EB0OLD", "from": CUSTOMER}


def test_group_message_tells_sender_from_chat(real):
    data = deliver_message(real, builders.text_content("hola grupo"), chat=GROUP, sender=CUSTOMER)["data"]
    assert (data["chatId"], data["from"], data["isGroup"]) == (GROUP, CUSTOMER, True)


def test_broadcast_list_message_belongs_to_the_dm_with_its_sender(real):
    data = deliver_message(real, builders.text_content("promo para mis clientes"), chat="1764094322@broadcast",
                           sender=CUSTOMER)["data"]
    assert (data["chatId"], data["from"], data["isGroup"]) == (CUSTOMER, CUSTOMER, False)


def test_message_sent_from_the_phone_is_message_from_me(real):
    envelope = deliver_message(real, builders.text_content("te escribo yo"), sender=ME, from_me=True)
    assert envelope["type"] == "message-from-me"
    assert (envelope["data"]["fromMe"], envelope["data"]["from"]) == (True, ME)


@pytest.mark.parametrize("kind,event_type", [("delivered", "message-delivered"), ("read", "message-read"),
                                             ("played", "message-read")])
def test_receipts(real, kind, event_type):
    envelope = deliver(real, builders.receipt_event(["3EB0111", "3EB0222"], CUSTOMER, kind))
    assert envelope["type"] == event_type
    assert envelope["data"]["messageIds"] == ["3EB0111", "3EB0222"]
    assert (envelope["data"]["chatId"], envelope["data"]["from"]) == (CUSTOMER, CUSTOMER)


def test_unknown_message_kinds_are_other_and_never_raise(real, caplog):
    invite = E.Message(groupInviteMessage=E.GroupInviteMessage(groupJID=GROUP, inviteCode="abc", groupName="VIP"))
    with caplog.at_level(logging.ERROR):
        data = deliver_message(real, invite)["data"]
        assert (data["type"], data["text"]) == ("other", "")
        assert deliver_message(real, E.Message())["data"]["type"] == "other"  # nothing in it at all
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_key_material_alone_is_not_a_message(real):
    keys = E.Message(senderKeyDistributionMessage=E.SenderKeyDistributionMessage(
        groupID=GROUP, axolotlSenderKeyDistributionMessage=b"\x33" * 40),
        messageContextInfo=E.MessageContextInfo(messageSecret=b"\x01" * 32))
    nothing_recorded_for(real, builders.message_event(keys, spec(chat=GROUP, sender=CUSTOMER)))


def test_events_the_hub_does_not_map_are_ignored(real):
    hub = real[0]
    nothing_recorded_for(real, N.KeepAliveTimeout(ErrorCount=1, LastSuccess=0), N.OfflineSyncCompleted(Count=3))
    assert event_count(hub) == 1
