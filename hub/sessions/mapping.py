"""neonize protobuf events -> hub events (DESIGN.md §5) and session status changes.

Both engines feed this module the same protobuf objects, so the sandbox exercises the real
path. Nothing here touches the database or the network; unknown kinds never raise.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from neonize.proto import Neonize_pb2 as N

MEDIA_KINDS = {"imageMessage": "image", "videoMessage": "video", "audioMessage": "audio",
               "documentMessage": "document", "stickerMessage": "sticker", "ptvMessage": "video"}
# Wrappers whose `.message` holds the real content.
WRAPPERS = ("ephemeralMessage", "viewOnceMessage", "viewOnceMessageV2", "viewOnceMessageV2Extension",
            "documentWithCaptionMessage", "editedMessage")
LOGOUT_REASONS = {N.LOGGED_OUT: "logged_out (401)", N.MAIN_DEVICE_GONE: "main_device_gone (403)",
                  N.UNKNOWN_LOGOUT: "unknown_logout (406)"}


@dataclass
class HubEventDraft:
    """An event to record. `media` is the protobuf media message to download, if any."""

    type: str
    data: dict
    media: object | None = None


@dataclass
class StatusChange:
    """A lifecycle transition. `reconnect` False means: do not retry on our own;
    `forget_credentials` False keeps the store of a `logged_out` session (it may be recoverable)."""

    status: str
    reason: str | None = None
    reconnect: bool = True
    forget_credentials: bool = True
    retry_after: float | None = None
    jid: str | None = None
    push_name: str | None = None
    extra: dict = field(default_factory=dict)


def jid_str(jid) -> str:
    """`user@server` (device suffix dropped); '' for an empty JID."""
    if jid is None or jid.IsEmpty or not (jid.User or jid.Server):
        return ""
    return f"{jid.User}@{jid.Server}" if jid.User else jid.Server


def iso_from_unix(seconds: int | float) -> str:
    """Unix seconds (or milliseconds) -> ISO 8601 UTC with Z."""
    if seconds > 10**11:  # whatsmeow gives milliseconds in some places
        seconds = seconds / 1000
    stamp = datetime.fromtimestamp(seconds or 0, timezone.utc)
    return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def unwrap(message):
    """Strip ephemeral / view-once / document-with-caption wrappers."""
    for _ in range(4):
        for wrapper in WRAPPERS:
            if message.HasField(wrapper) and getattr(message, wrapper).HasField("message"):
                message = getattr(message, wrapper).message
                break
        else:
            return message
    return message


def content_of(message) -> tuple[str, str, dict, object | None]:
    """(type, text, extra data, media protobuf) of a waE2E Message."""
    message = unwrap(message)
    if message.conversation:
        return "text", message.conversation, {}, None
    if message.HasField("extendedTextMessage"):
        return "text", message.extendedTextMessage.text, {}, None
    for name, kind in MEDIA_KINDS.items():
        if message.HasField(name):
            media = getattr(message, name)
            extra = {"voice": bool(media.PTT)} if kind == "audio" else {}
            return kind, getattr(media, "caption", "") or "", extra, media
    return _structured_content(message)


def _structured_content(message) -> tuple[str, str, dict, None]:
    if message.HasField("locationMessage") or message.HasField("liveLocationMessage"):
        loc = message.locationMessage if message.HasField("locationMessage") else message.liveLocationMessage
        return "location", getattr(loc, "name", "") or "", {"location": {
            "latitude": loc.degreesLatitude, "longitude": loc.degreesLongitude,
            "name": getattr(loc, "name", "") or None, "address": getattr(loc, "address", "") or None}}, None
    if message.HasField("contactMessage"):
        contact = message.contactMessage
        return "contact", contact.displayName, {"contacts": [
            {"displayName": contact.displayName, "vcard": contact.vcard}]}, None
    if message.HasField("contactsArrayMessage"):
        contacts = [{"displayName": c.displayName, "vcard": c.vcard}
                    for c in message.contactsArrayMessage.contacts]
        return "contact", message.contactsArrayMessage.displayName, {"contacts": contacts}, None
    if message.HasField("reactionMessage"):
        reaction = message.reactionMessage
        return "reaction", reaction.text, {"reaction": {
            "emoji": reaction.text, "messageId": reaction.key.ID, "removed": not reaction.text}}, None
    return "other", "", {}, None


def media_description(kind: str, media) -> dict:
    """What the message says about its media (before any download)."""
    return {"kind": kind, "mimetype": media.mimetype or None,
            "originalName": getattr(media, "fileName", "") or None,
            "fileSize": media.fileLength or None}


def map_message(event: "N.Message") -> HubEventDraft:
    """MessageEv -> message-received / message-from-me."""
    info, source = event.Info, event.Info.MessageSource
    kind, text, extra, media = content_of(event.Message)
    data = {
        "messageId": info.ID, "chatId": jid_str(source.Chat), "from": jid_str(source.Sender),
        "pushName": info.Pushname or None, "isGroup": bool(source.IsGroup),
        "fromMe": bool(source.IsFromMe), "type": kind, "text": text,
        "timestamp": iso_from_unix(info.Timestamp), **extra,
    }
    if media is not None:
        data["media"] = media_description(kind, media)
    return HubEventDraft("message-from-me" if source.IsFromMe else "message-received", data, media)


def map_receipt(event: "N.Receipt") -> HubEventDraft | None:
    """ReceiptEv -> message-delivered / message-read; other receipt kinds are ignored."""
    if event.Type == N.Receipt.DELIVERED:
        kind = "message-delivered"
    elif event.Type in (N.Receipt.READ, N.Receipt.PLAYED):
        kind = "message-read"
    else:
        return None
    source = event.MessageSource
    return HubEventDraft(kind, {"messageIds": list(event.MessageIDs), "chatId": jid_str(source.Chat),
                                "from": jid_str(source.Sender), "timestamp": iso_from_unix(event.Timestamp)})


def map_lifecycle(event) -> StatusChange | None:
    """Connection events -> the status the session moves to (None: no change)."""
    if isinstance(event, N.Connected):
        return StatusChange("connected")
    if isinstance(event, N.PairStatus):
        if event.Status == N.PairStatus.SUCCESS:
            return StatusChange("starting", jid=jid_str(event.ID), push_name=event.BusinessName or None)
        return StatusChange("qr", reason=f"pairing failed: {event.Error}")
    if isinstance(event, N.LoggedOut):
        reason = LOGOUT_REASONS.get(event.Reason, f"logged_out ({failure_name(event.Reason)})")
        return StatusChange("logged_out", reason=reason, reconnect=False)
    return _trouble(event)


def failure_name(reason: int) -> str:
    """LOGGED_OUT, TEMP_BANNED, ... or the bare number for codes this neonize does not know."""
    try:
        return N.ConnectFailureReason.Name(reason)
    except ValueError:
        return str(reason)


def ban_name(event: "N.TemporaryBan") -> str:
    """SEND_TO_TOO_MANY_PEOPLE, BLOCKED_BY_USERS, ... (the number when unknown)."""
    value = event.DESCRIPTOR.fields_by_name["Code"].enum_type.values_by_number.get(event.Code)
    return value.name if value is not None else f"code {event.Code}"


def _trouble(event) -> StatusChange | None:
    if isinstance(event, N.Disconnected):
        return StatusChange("disconnected", reason="connection lost")
    if isinstance(event, N.StreamReplaced):
        return StatusChange("disconnected", reconnect=False,
                            reason="stream_replaced: another client connected with this session's keys")
    if isinstance(event, N.TemporaryBan):
        return StatusChange("disconnected", reconnect=True, retry_after=float(event.Expire or 3600),
                            reason=f"temporary_ban: {ban_name(event)}, expires in {event.Expire} s")
    if isinstance(event, N.ClientOutdated):
        return StatusChange("disconnected", reconnect=False,
                            reason="client_outdated: WhatsApp rejected this client version; upgrade neonize")
    if isinstance(event, N.ConnectFailure):
        name = failure_name(event.Reason) if event.Reason else "GENERIC"
        return StatusChange("disconnected", reason=f"connect_failure: {name} {event.Message}".strip())
    if isinstance(event, N.KeepAliveTimeout):
        return None  # whatsmeow keeps trying by itself; Disconnected follows if it gives up
    return None


# Substrings of whatsmeow / sqlite errors that mean the session's store cannot be used.
STORE_ERRORS = ("failed to upgrade database", "file is not a database", "unable to open database",
                "database disk image is malformed", "no such table", "readonly database")
DNS_ERRORS = ("no such host", "name or service not known", "temporary failure in name resolution",
              "server misbehaving")
DNS_REASON = "dns_error: cannot resolve web.whatsapp.com (no network or DNS down); retrying with backoff"


def connect_failure(error: str) -> StatusChange:
    """A failed dial (neonize's error text) -> the status the session moves to."""
    text = error.strip() or "connection closed"
    lowered = text.lower()
    if lowered.startswith("qr_timeout"):
        return StatusChange("stopped", reason=text, reconnect=False)
    if any(marker in lowered for marker in STORE_ERRORS):
        return StatusChange("logged_out", reconnect=False, forget_credentials=False,
                            reason=f"store_unreadable: the session's WhatsApp store cannot be opened ({text}); "
                                   "restore it from a backup, or delete the session and link it again")
    if any(marker in lowered for marker in DNS_ERRORS):
        return StatusChange("disconnected", reason=DNS_REASON)
    return StatusChange("disconnected", reason=f"connect_failed: {text}")


def map_event(event) -> HubEventDraft | StatusChange | None:
    """Any neonize event -> what the hub does with it. Unknown events -> None."""
    if isinstance(event, N.Message):
        return map_message(event)
    if isinstance(event, N.Receipt):
        return map_receipt(event)
    return map_lifecycle(event)
