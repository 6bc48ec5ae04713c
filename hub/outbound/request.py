"""What a send is: the request as a route received it (SendRequest) and as validation left it (ValidatedSend)."""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

from hub.media.payload import Attachment


@dataclass
class MediaSpec:
    """Media as a sender gives it: exactly one of url, base64, data_url."""

    url: str | None = None
    base64: str | None = None
    data_url: str | None = None
    filename: str | None = None
    mimetype: str | None = None
    caption: str | None = None
    voice: bool = False  # a voice note (converted to ogg/opus when it is not)
    sticker: bool = False  # a sticker (converted to webp when it is not)


@dataclass
class ActionSpec:
    """A message action as a caller asks for it: react to, edit or revoke the message `message_id`."""

    kind: str  # reaction, edit, revoke
    message_id: str
    chat_id: str | None = None  # for a reaction to a message the history does not hold


@dataclass
class Target:
    """The message a validated action acts on: its id and its author (None: the session itself)."""

    kind: str
    message_id: str
    sender: str | None = None

    def columns(self) -> dict:
        """The outbound row's columns for it."""
        return {"target_id": self.message_id, "target_sender": self.sender}


@dataclass
class SendRequest:
    """One send, whichever route it came through."""

    to: str
    text: str | None = None
    media: MediaSpec | None = None
    session_id: str | None = None
    queue_only: bool = False
    idempotency_key: str | None = None
    reply_to: str | None = None  # the id of a message to quote
    mentions: list[str] | None = None  # numbers or JIDs
    link_preview: bool | dict | None = None  # True: the hub fetches the page; a dict: the preview as given
    location: dict | None = None  # {latitude, longitude, name?, address?}
    contact: dict | None = None  # {name, phone} or {vcard, name?}
    poll: dict | None = None  # {question, options, multiple?, selectableCount?}
    action: ActionSpec | None = None
    force: bool = False  # send even to a number a check found not on WhatsApp

    def fingerprint(self) -> str:
        """A hash of what is sent, to tell a retry from a different request under the same key."""
        fields = asdict(self)
        fields.pop("idempotency_key")
        return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


@dataclass
class ValidatedSend:
    """A send that passed validation: the session, the recipient JID, the text, the media bytes and the
    structured content (quote, mentions, link preview, location, contact, poll: hub/outbound/kinds.py)."""

    session_id: str
    to: str
    text: str | None
    attachment: Attachment | None
    content: dict | None = None
    target: Target | None = None  # a message action's target

    @property
    def type(self) -> str:
        """What is sent: text, a media kind (image, voice, sticker, ...), location, contact, poll; or an action."""
        if self.target is not None:
            return self.target.kind
        if self.attachment:
            return self.attachment.kind
        return next((kind for kind in ("location", "contact", "poll") if self.content and kind in self.content),
                    "text")
