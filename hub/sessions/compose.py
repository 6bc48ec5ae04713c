"""The waE2E Message one outgoing message becomes (README.md, "Sending"); runs in the send pool.

Media are built by neonize's own builders (`build_image_message` & co: upload, thumbnail, ffmpeg,
as its `send_image` & co do before `send_message`); text, locations and contact cards as WhatsApp
clients send them (neonize `send_message` / `send_contact`); polls by goneonize
`BuildPollVoteCreation` (whatsmeow `BuildPollCreation`, with the messageSecret votes are encrypted
with). A quote and mentions go in the content's `contextInfo` as whatsmeow's `_make_quoted_message`
/ WhatsApp put them: `stanzaID`, `participant`, `quotedMessage`; `mentionedJID`.
"""
from __future__ import annotations

import mimetypes
from types import SimpleNamespace

from neonize.proto.waE2E.WAWebProtobufsE2E_pb2 import (
    ContactMessage,
    ContextInfo,
    ExtendedTextMessage,
    LocationMessage,
    Message,
)

from hub.sessions.engine import OutgoingMessage


def build(client, message: OutgoingMessage) -> Message:
    """The protobuf to hand to neonize's `send_message` for `message`."""
    content = message.content or {}
    built = _body(client, message, content)
    context = context_info(content)
    return built if context is None else attach_context(built, context)


def attach_context(message: Message, context: ContextInfo) -> Message:
    """`message` quoting / mentioning as `context` says (a plain `conversation` becomes an extendedTextMessage,
    the only text form with a contextInfo)."""
    if message.conversation:
        return Message(extendedTextMessage=ExtendedTextMessage(text=message.conversation, contextInfo=context))
    carrier = _context_carrier(message)
    if context.mentionedJID:  # ours replace the ones neonize parsed out of a caption
        del carrier.contextInfo.mentionedJID[:]
    carrier.contextInfo.MergeFrom(context)
    return message


def _body(client, message: OutgoingMessage, content: dict) -> Message:
    if "location" in content:
        return location_message(content["location"])
    if "contact" in content:
        card = content["contact"]
        return Message(contactMessage=ContactMessage(displayName=card["name"], vcard=card["vcard"]))
    if "poll" in content:
        return poll_message(client, content["poll"])
    if message.media is None:
        return text_message(message.text or "", content)
    return media_message(client, message)


def text_message(text: str, content: dict) -> Message:
    """`conversation`, or an extendedTextMessage when it quotes, mentions or previews a link
    (the only text form with a contextInfo; neonize's send_message picks the same way)."""
    if not ({"quoted", "mentions", "linkPreview"} & content.keys()):
        return Message(conversation=text)
    extended = ExtendedTextMessage(text=text)
    preview = content.get("linkPreview")
    if preview:  # neonize's _generate_link_preview: matchedText, title, description, previewType NONE
        extended.matchedText = preview["url"]
        extended.title = preview.get("title", "")
        extended.description = preview.get("description", "")
        extended.previewType = ExtendedTextMessage.PreviewType.NONE
    return Message(extendedTextMessage=extended)


def location_message(place: dict) -> Message:
    """waE2E.LocationMessage (degrees, name, address), as a phone shares a place."""
    location = LocationMessage(degreesLatitude=place["latitude"], degreesLongitude=place["longitude"])
    if place.get("name"):
        location.name = place["name"]
    if place.get("address"):
        location.address = place["address"]
    return Message(locationMessage=location)


def poll_message(client, poll: dict) -> Message:
    """goneonize BuildPollVoteCreation (whatsmeow BuildPollCreation) through neonize's client.

    neonize passes `selectable_count.value` (its VoteType has only SINGLE=1 and MULTIPLE=0);
    whatsmeow takes any count up to the number of options, so the count goes in the same shape.
    """
    count = SimpleNamespace(value=poll["selectableCount"])
    return client.build_poll_vote_creation(poll["question"], poll["options"], count)


def media_message(client, message: OutgoingMessage) -> Message:
    """An image, video, audio/voice note, sticker or document message, built (and uploaded) by neonize."""
    caption, data = message.text or None, message.media
    if message.kind == "image":
        return client.build_image_message(data, caption=caption)
    if message.kind == "video":
        return client.build_video_message(data, caption=caption)
    if message.kind in ("audio", "voice"):
        return _audio_message(client, message)
    if message.kind == "sticker":
        return client.build_sticker_message(data)
    filename = message.filename or default_filename(message.mimetype)
    return client.build_document_message(data, caption=caption, filename=filename, mimetype=message.mimetype,
                                         title=filename)


def _audio_message(client, message: OutgoingMessage) -> Message:
    """Audio, or a voice note (`voice`: WhatsApp plays only ogg/opus as one, so convert when needed)."""
    from hub.sessions import converter

    voice = message.kind == "voice" or message.voice
    data = message.media
    if voice and not converter.is_ogg_opus(data):
        data = converter.to_voice_note(data)
    return client.build_audio_message(data, ptt=bool(voice))


def default_filename(mimetype: str | None) -> str:
    """`document.pdf`-style name for a document sent without one (WhatsApp shows it to the customer)."""
    extension = mimetypes.guess_extension((mimetype or "").split(";")[0].strip()) or ".bin"
    return f"document{extension}"


def context_info(content: dict) -> ContextInfo | None:
    """The quote and mentions of a send as waE2E.ContextInfo; None when it has neither."""
    quoted, mentions = content.get("quoted"), content.get("mentions")
    if not quoted and not mentions:
        return None
    info = ContextInfo(mentionedJID=mentions or [])
    if quoted:
        info.stanzaID = quoted["messageId"]
        if quoted.get("participant"):  # unknown to the hub's history: quoted by id alone
            info.participant = quoted["participant"]
        if quoted.get("text"):
            info.quotedMessage.CopyFrom(Message(conversation=quoted["text"]))
    return info


def _context_carrier(message: Message):
    """The content field that carries the contextInfo (extendedTextMessage, imageMessage, pollCreationMessage…)."""
    for descriptor, value in message.ListFields():
        if descriptor.message_type is not None and "contextInfo" in value.DESCRIPTOR.fields_by_name:
            return value
    raise ValueError("this message has no content that can quote or mention")
