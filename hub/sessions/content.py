"""What a waE2E Message says: its type, text and structured data (README.md, "Events"), without I/O.

`hub.sessions.mapping` adds who sent it where; this module only reads the protobuf. Unknown kinds
are type `other` and never raise.
"""
from __future__ import annotations

import json
from typing import NamedTuple

MEDIA_KINDS = {"imageMessage": "image", "videoMessage": "video", "audioMessage": "audio",
               "documentMessage": "document", "stickerMessage": "sticker", "ptvMessage": "video"}
# Wrappers whose `.message` holds the real content (whatsmeow's UnwrapRaw removes most of them
# before goneonize hands the event over; history and older clients may still carry them).
WRAPPERS = ("deviceSentMessage", "botInvokeMessage", "ephemeralMessage", "viewOnceMessage", "viewOnceMessageV2",
            "viewOnceMessageV2Extension", "lottieStickerMessage", "documentWithCaptionMessage", "editedMessage")
POLL_FIELDS = ("pollCreationMessage", "pollCreationMessageV2", "pollCreationMessageV3", "pollCreationMessageV5",
               "pollCreationMessageV6")
# Fields that carry keys or metadata, never something a person sent.
PLUMBING_FIELDS = {"senderKeyDistributionMessage", "messageContextInfo"}


class Content(NamedTuple):
    """A message's type, text, extra data fields and the media protobuf to download (if any)."""

    type: str
    text: str
    extra: dict
    media: object | None = None


def unwrap(message):
    """Strip ephemeral / view-once / document-with-caption / edit wrappers."""
    for _ in range(len(WRAPPERS)):
        for wrapper in WRAPPERS:
            if message.HasField(wrapper) and getattr(message, wrapper).HasField("message"):
                message = getattr(message, wrapper).message
                break
        else:
            return message
    return message


def is_plumbing(message) -> bool:
    """Only key material (a group's sender key, a message secret): nothing to report."""
    names = {descriptor.name for descriptor, _ in message.ListFields()}
    return bool(names) and names <= PLUMBING_FIELDS


def content_of(message) -> Content:
    """Type, text and data of a waE2E Message (wrappers removed)."""
    message = unwrap(message)
    if message.conversation:
        return Content("text", message.conversation, {})
    if message.HasField("extendedTextMessage"):
        return Content("text", message.extendedTextMessage.text, {})
    for name, kind in MEDIA_KINDS.items():
        if message.HasField(name):
            media = getattr(message, name)
            extra = {"voice": bool(media.PTT)} if kind == "audio" else {}
            return Content(kind, getattr(media, "caption", "") or "", extra, media)
    for reader in (_location, _contacts, _reaction, _reply, _poll):
        content = reader(message)
        if content is not None:
            return content
    return Content("other", "", {})


def text_of(message) -> str:
    """The text a person reads in a message (its caption for media); '' when it has none."""
    return content_of(message).text


def _location(message) -> Content | None:
    name = next((n for n in ("locationMessage", "liveLocationMessage") if message.HasField(n)), None)
    if name is None:
        return None
    loc = getattr(message, name)
    place = getattr(loc, "name", "") or None
    return Content("location", place or "", {"location": {
        "latitude": loc.degreesLatitude, "longitude": loc.degreesLongitude, "name": place,
        "address": getattr(loc, "address", "") or None}})


def _contacts(message) -> Content | None:
    if message.HasField("contactMessage"):
        title, cards = message.contactMessage.displayName, [message.contactMessage]
    elif message.HasField("contactsArrayMessage"):
        title, cards = message.contactsArrayMessage.displayName, message.contactsArrayMessage.contacts
    else:
        return None
    # README.md ("Events") says `name`; `displayName` stays for clients written against the first release.
    contacts = [{"name": card.displayName, "displayName": card.displayName, "vcard": card.vcard} for card in cards]
    return Content("contact", title or ", ".join(c["name"] for c in contacts), {"contacts": contacts})


def _reaction(message) -> Content | None:
    if message.HasField("reactionMessage"):
        reaction = message.reactionMessage
        return Content("reaction", reaction.text, {"reaction": {
            "emoji": reaction.text, "messageId": reaction.key.ID, "removed": not reaction.text}})
    if message.HasField("encReactionMessage"):
        # The emoji is encrypted with the target message's secret; goneonize 0.5.2 exports no
        # DecryptReaction, so the CRM learns only that a reaction came, and to which message.
        target = message.encReactionMessage.targetMessageKey
        return Content("reaction", "", {"reaction": {"messageId": target.ID, "emoji": None, "encrypted": True}})
    return None


def _reply(message) -> Content | None:
    """Button, list, template and interactive replies: type text, the picked option as text."""
    if message.HasField("buttonsResponseMessage"):
        reply = message.buttonsResponseMessage
        return _picked("button", reply.selectedButtonID, reply.selectedDisplayText)
    if message.HasField("listResponseMessage"):
        reply = message.listResponseMessage
        return _picked("list", reply.singleSelectReply.selectedRowID, reply.title)
    if message.HasField("templateButtonReplyMessage"):
        reply = message.templateButtonReplyMessage
        return _picked("template", reply.selectedID, reply.selectedDisplayText)
    if message.HasField("interactiveResponseMessage"):
        reply = message.interactiveResponseMessage
        flow = reply.nativeFlowResponseMessage
        return _picked("interactive", _flow_id(flow.paramsJSON) or flow.name, reply.body.text)
    return None


def _picked(kind: str, option_id: str, title: str) -> Content:
    return Content("text", title, {"reply": {"kind": kind, "id": option_id or None, "title": title or None}})


def _flow_id(params_json: str) -> str | None:
    """The `id` a native-flow reply's paramsJSON carries (its quick-reply / list row id)."""
    try:
        params = json.loads(params_json or "{}")
    except ValueError:
        return None
    value = params.get("id") if isinstance(params, dict) else None
    return str(value) if value is not None else None


def _poll(message) -> Content | None:
    name = next((n for n in POLL_FIELDS if message.HasField(n)), None)
    if name is None:
        return None
    poll = getattr(message, name)
    options = [option.optionName for option in poll.options]
    # selectableOptionsCount: 1 = one answer; 0 (or more than 1) = several (whatsmeow BuildPollCreation).
    return Content("poll", poll.name, {"poll": {"question": poll.name, "options": options,
                                                "multiple": poll.selectableOptionsCount != 1}})


def context_of(message):
    """The ContextInfo (reply / mentions) of a message's content, or None."""
    message = unwrap(message)
    for descriptor, value in message.ListFields():
        if descriptor.message_type is None or descriptor.name in PLUMBING_FIELDS:
            continue
        if "contextInfo" in value.DESCRIPTOR.fields_by_name and value.HasField("contextInfo"):
            return value.contextInfo
    return None
