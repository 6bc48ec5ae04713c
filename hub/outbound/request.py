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
class SendRequest:
    """One send, whichever route it came through."""

    to: str
    text: str | None = None
    media: MediaSpec | None = None
    session_id: str | None = None
    queue_only: bool = False
    idempotency_key: str | None = None

    def fingerprint(self) -> str:
        """A hash of what is sent, to tell a retry from a different request under the same key."""
        fields = asdict(self)
        fields.pop("idempotency_key")
        return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


@dataclass
class ValidatedSend:
    """A send that passed validation: the session, the recipient JID, the text and the media bytes."""

    session_id: str
    to: str
    text: str | None
    attachment: Attachment | None

    @property
    def type(self) -> str:
        return self.attachment.kind if self.attachment else "text"
