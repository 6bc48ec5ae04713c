"""hub/sessions/compose.py: the waE2E Message of each kind, checked against the function that defines it."""
from __future__ import annotations

from neonize.proto.waE2E import WAWebProtobufsE2E_pb2 as E

from hub.sessions import compose
from hub.sessions.engine import OutgoingMessage


def test_plain_text_is_a_conversation_and_a_quote_makes_it_extended_text():
    # neonize send_message: conversation unless there is a contextInfo or a preview
    assert compose.build(None, OutgoingMessage(text="hola")) == E.Message(conversation="hola")
    quoted = {"messageId": "3EB0AA", "participant": "51987654321@s.whatsapp.net", "text": "¿talla M?"}
    message = compose.build(None, OutgoingMessage(text="sí", content={"quoted": quoted, "mentions": ["1@lid"]}))
    # neonize _make_quoted_message: stanzaID, participant, quotedMessage
    context = message.extendedTextMessage.contextInfo
    assert (message.extendedTextMessage.text, context.stanzaID, context.participant) == \
        ("sí", "3EB0AA", "51987654321@s.whatsapp.net")
    assert context.quotedMessage == E.Message(conversation="¿talla M?") and list(context.mentionedJID) == ["1@lid"]


def test_an_unknown_quote_carries_the_id_alone():
    context = compose.context_info({"quoted": {"messageId": "3EB0BB"}})
    assert context.stanzaID == "3EB0BB" and not context.participant and not context.HasField("quotedMessage")
    assert compose.context_info({}) is None


def test_link_preview_fields_are_neonizes():
    content = {"linkPreview": {"url": "https://a.example/x", "title": "T", "description": "D"}}
    text = compose.build(None, OutgoingMessage(text="ver https://a.example/x", content=content)).extendedTextMessage
    assert (text.matchedText, text.title, text.description, text.previewType) == \
        ("https://a.example/x", "T", "D", E.ExtendedTextMessage.PreviewType.NONE)


def test_location_and_contact_messages():
    place = compose.build(None, OutgoingMessage(kind="location", content={
        "location": {"latitude": 1.5, "longitude": -2.25, "name": None, "address": "Calle 1"}})).locationMessage
    assert (place.degreesLatitude, place.degreesLongitude, place.HasField("name"), place.address) == \
        (1.5, -2.25, False, "Calle 1")
    card = compose.build(None, OutgoingMessage(kind="contact", content={
        "contact": {"name": "Ana", "vcard": "BEGIN:VCARD\nFN:Ana\nEND:VCARD"}})).contactMessage
    assert (card.displayName, card.vcard) == ("Ana", "BEGIN:VCARD\nFN:Ana\nEND:VCARD")


def test_a_poll_is_built_by_the_library_and_quotes_through_its_own_context_info():
    class Client:  # stands in for neonize's build_poll_vote_creation (goneonize BuildPollVoteCreation)
        def build_poll_vote_creation(self, name, options, selectable):
            self.selectable = selectable.value
            return E.Message(pollCreationMessage=E.PollCreationMessage(name=name))

    client = Client()
    content = {"poll": {"question": "¿?", "options": ["a", "b", "c"], "selectableCount": 2},
               "quoted": {"messageId": "3EB0CC"}}
    message = compose.build(client, OutgoingMessage(kind="poll", content=content))
    assert client.selectable == 2 and message.pollCreationMessage.contextInfo.stanzaID == "3EB0CC"


def test_mentions_replace_the_ones_neonize_parsed_from_a_caption():
    image = E.Message(imageMessage=E.ImageMessage(caption="@111", contextInfo=E.ContextInfo(mentionedJID=["111@s"])))
    merged = compose.attach_context(image, E.ContextInfo(mentionedJID=["222@s.whatsapp.net"]))
    assert list(merged.imageMessage.contextInfo.mentionedJID) == ["222@s.whatsapp.net"]
