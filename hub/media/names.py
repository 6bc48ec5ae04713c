"""The `originalName` of inbound media when the message carries none.

A document carries the sender's file name (made fit to show by `storage.display_name`); WhatsApp
drops the name of photos, videos, voice notes and stickers. For those the hub gives the name
WhatsApp's phone apps give the saved file (`IMG-20261130-WA093012.jpg`: kind, date and time of
the message) instead of null, so that a receiver always has something to show; `null` only when
nothing is known at all. The name is for display: stored files get the hub's own names.
"""
from __future__ import annotations

from datetime import datetime

from hub.media import storage

PREFIXES = {"image": "IMG", "video": "VID", "audio": "AUD", "sticker": "STK", "document": "DOC"}


def original_name(given: str | None, kind: str | None, mimetype: str | None, sent_at: datetime | None) -> str | None:
    """The sender's name when the message has one, else a WhatsApp-style name for the kind and time."""
    name = storage.display_name(given)
    if name or kind not in PREFIXES or sent_at is None:
        return name
    return f"{PREFIXES[kind]}-{sent_at:%Y%m%d}-WA{sent_at:%H%M%S}.{storage.extension_for(mimetype)}"
