"""The structured parts of a send (README.md, "Sending"): a quoted message, mentions, a link preview,
a location, a contact card, a poll.

Each is checked before anything is stored (a 400 with its own code otherwise). The result is the
JSON the outbound row keeps, so a queued send survives a restart; hub/sessions/compose.py turns it
into WhatsApp's protobuf when the message goes out.
"""
from __future__ import annotations

import math
import re

from sqlalchemy import select

from hub.context import HubContext
from hub.errors import BadRequest
from hub.outbound.preview import link_preview
from hub.outbound.request import SendRequest
from hub.rules import MESSAGE_ID_PATTERN
from hub.sessions.jids import normalise_jid
from hub.store import Message

MESSAGE_ID = re.compile(MESSAGE_ID_PATTERN)
STANDALONE_KINDS = ("location", "contact", "poll")  # each is a message of its own: no text, no media with it
MAX_MENTIONS = 256
POLL_OPTIONS = (2, 12)  # WhatsApp's bounds on a poll's options
MAX_POLL_TEXT = 255
USER_SERVERS = ("s.whatsapp.net", "lid")


def structured(context: HubContext, request: SendRequest, session_id: str, to: str, text: str | None) -> dict:
    """The send's structured content as stored on its row; 400 on bad input."""
    content: dict = {}
    kind = standalone_kind(request)
    if kind:
        content[kind] = READERS[kind](getattr(request, kind))
    if request.reply_to is not None:
        content["quoted"] = quoted(context, session_id, to, request.reply_to)
    if request.mentions:
        content["mentions"] = mentioned(request.mentions)
    if request.link_preview:
        if request.media is not None or kind:
            raise BadRequest("linkPreview goes with a text message only (no media, location, contact or poll).",
                             code="conflicting_content")
        content["linkPreview"] = link_preview(context.config, request.link_preview, text or "")
    return content


def standalone_kind(request: SendRequest) -> str | None:
    """location, contact or poll when the request is one of them (one request, one message)."""
    kinds = [kind for kind in STANDALONE_KINDS if getattr(request, kind) is not None]
    if len(kinds) > 1 or (kinds and (request.media is not None or request.text)):
        given = kinds + (["media"] if request.media is not None else []) + (["message"] if request.text else [])
        raise BadRequest(f"One request sends one message: give only one of {', '.join(given)}.",
                         code="conflicting_content")
    return kinds[0] if kinds else None


def quoted(context: HubContext, session_id: str, chat: str, message_id: str) -> dict:
    """The message `replyTo` names, from the history of its chat (sender, text); by id alone when unknown."""
    if not MESSAGE_ID.match(message_id):
        raise BadRequest(f"replyTo '{message_id[:80]}' is not a WhatsApp message id (letters and digits, "
                         "e.g. 3EB0C767D26A1D8E5A8B).", code="invalid_reply_to")
    statement = select(Message.sender, Message.text, Message.type).where(
        Message.session_id == session_id, Message.chat_id == chat, Message.message_id == message_id).limit(1)
    with context.store.session() as db:
        row = db.execute(statement).first()
    if row is None:
        return {"messageId": message_id}
    return {"messageId": message_id, "participant": row.sender, "text": row.text, "type": row.type}


def mentioned(values: list) -> list[str]:
    """Numbers or JIDs -> the people's JIDs (in order, once each); 400 when one is neither."""
    if len(values) > MAX_MENTIONS:
        raise BadRequest(f"mentions takes at most {MAX_MENTIONS} people.", code="invalid_mentions")
    jids = []
    for value in values:
        jid = _person(value)
        if jid not in jids:
            jids.append(jid)
    return jids


def _person(value) -> str:
    try:
        jid = normalise_jid(str(value), "mentions")
    except BadRequest:
        jid = ""
    if jid.partition("@")[2] not in USER_SERVERS:
        raise BadRequest(f"mentions: '{str(value)[:80]}' is not a phone number with country code or a person's "
                         "JID (…@s.whatsapp.net, …@c.us, …@lid).", code="invalid_mentions")
    return jid


def location(value: dict) -> dict:
    """{latitude, longitude, name?, address?} within ±90 / ±180 degrees."""
    latitude, longitude = value.get("latitude"), value.get("longitude")
    for name, number, bound in (("latitude", latitude, 90), ("longitude", longitude, 180)):
        if not isinstance(number, int | float) or not math.isfinite(number) or abs(number) > bound:
            raise BadRequest(f"location.{name} must be a number from -{bound} to {bound}.", code="invalid_location")
    return {"latitude": float(latitude), "longitude": float(longitude),
            "name": value.get("name") or None, "address": value.get("address") or None}


def contact(value: dict) -> dict:
    """{name, phone} -> a vCard as neonize's send_contact builds it (gen_vcard); or a vCard as given."""
    name, phone, vcard = (value.get(key) or "" for key in ("name", "phone", "vcard"))
    if vcard:
        if "BEGIN:VCARD" not in vcard.upper() or "END:VCARD" not in vcard.upper():
            raise BadRequest("contact.vcard must be a vCard (BEGIN:VCARD … END:VCARD).", code="invalid_contact")
        return {"name": name.strip() or _vcard_name(vcard), "vcard": vcard}
    if not name.strip() or not phone:
        raise BadRequest("contact needs a name and a phone (or a vcard).", code="invalid_contact")
    return {"name": name.strip(), "vcard": _vcard(name.strip(), phone)}


def _vcard(name: str, phone: str) -> str:
    from neonize.utils import gen_vcard
    from phonenumbers import NumberParseException

    digits = re.sub(r"[\s\-+().]", "", phone)
    try:
        return gen_vcard(name, digits)
    except (NumberParseException, IndexError):
        raise BadRequest(f"contact.phone '{phone[:40]}' is not a phone number with country code.",
                         code="invalid_contact") from None


def _vcard_name(vcard: str) -> str:
    """The FN (formatted name) line of a vCard: the name WhatsApp shows on the card."""
    match = re.search(r"^FN[^:\n]*:(.*)$", vcard, re.MULTILINE | re.IGNORECASE)
    return match.group(1).strip() if match else ""


def poll(value: dict) -> dict:
    """{question, options (2-12, unique), multiple?, selectableCount?} -> whatsmeow BuildPollCreation's inputs."""
    question = (value.get("question") or "").strip()
    options = [str(option).strip() for option in value.get("options") or []]
    low, high = POLL_OPTIONS
    if not question or len(question) > MAX_POLL_TEXT:
        raise BadRequest(f"poll.question is required (at most {MAX_POLL_TEXT} characters).", code="invalid_poll")
    if not low <= len(options) <= high or not all(options) or any(len(o) > MAX_POLL_TEXT for o in options):
        raise BadRequest(f"poll.options needs {low} to {high} non-empty options.", code="invalid_poll")
    if len(set(options)) != len(options):
        raise BadRequest("poll.options must be different from each other (a vote names its options by text).",
                         code="invalid_poll")
    return {"question": question, "options": options, "selectableCount": _selectable(value, len(options))}


def _selectable(value: dict, count: int) -> int:
    """How many options a voter may pick: 1, or 0 for any number (whatsmeow's selectableOptionCount)."""
    selectable = value.get("selectableCount")
    if selectable is None:
        return 0 if value.get("multiple") else 1
    if not isinstance(selectable, int) or not 0 <= selectable <= count:
        raise BadRequest(f"poll.selectableCount must be 0 (any number) to {count}.", code="invalid_poll")
    return selectable


READERS = {"location": location, "contact": contact, "poll": poll}
