"""neonize protobuf events -> hub events (README.md, "Events") and session status changes.

Every engine feeds this module the protobuf objects goneonize hands Python, so the sandbox
exercises the real path. Nothing here touches the database or the network; unknown kinds never
raise. What a message's content says is read by `hub.sessions.content`; this module adds who sent
it where (phone JIDs for LID-addressed chats) and which event it is.
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from neonize.proto import Neonize_pb2 as N
from neonize.proto.waE2E import WAWebProtobufsE2E_pb2 as E

from hub.sessions.content import content_of, context_of, is_plumbing, text_of, unwrap
from hub.store.models import SessionStatus

log = logging.getLogger(__name__)

# A LID JID string ('…@lid') -> its phone JID string, or None when unknown (goneonize GetPNFromLID).
Resolver = Callable[[str], "str | None"]
LID_SERVER = "lid"
STATUS_BROADCAST = "status@broadcast"
LOGOUT_REASONS = {N.LOGGED_OUT: "logged_out (401)", N.MAIN_DEVICE_GONE: "main_device_gone (403)",
                  N.UNKNOWN_LOGOUT: "unknown_logout (406)"}
# Receipts from the other party about what the session sent. PLAYED (a voice note or video was
# played) implies it was read. READ_SELF / PLAYED_SELF (goneonize sends PLAYED_SELF as SERVER_ERROR),
# RETRY, SENDER, INACTIVE, PEER_MSG and HISTORY_SYNC say nothing a CRM needs.
RECEIPT_EVENTS = {N.Receipt.DELIVERED: "message-delivered", N.Receipt.READ: "message-read",
                  N.Receipt.PLAYED: "message-read"}
DECRYPT_FAIL_MODES = {N.UndecryptableMessage.DECRYPT_FAIL_SHOW: "show",
                      N.UndecryptableMessage.DECRYPT_FAIL_HIDE: "hide"}


@dataclass
class HubEventDraft:
    """An event to record. `media` is the protobuf media message to download, if any.

    `decrypt` names what the engine must decrypt before the event is recorded ("poll-vote":
    goneonize's DecryptPollVote on `event`, the whole MessageEv, then `complete_poll_vote`).
    """

    type: str
    data: dict
    media: object | None = None
    decrypt: str | None = None
    event: object | None = None


@dataclass
class StatusChange:
    """A lifecycle transition. `reconnect` False means: do not retry on our own;
    `forget_credentials` False keeps the store of a `logged_out` session (it may be recoverable)."""

    status: SessionStatus
    reason: str | None = None
    reconnect: bool = True
    forget_credentials: bool = True
    retry_after: float | None = None
    jid: str | None = None
    device_jid: str | None = None
    push_name: str | None = None
    extra: dict = field(default_factory=dict)


def jid_str(jid) -> str:
    """`user@server` (device suffix dropped); '' for an empty JID."""
    if jid is None or jid.IsEmpty or not (jid.User or jid.Server):
        return ""
    return f"{jid.User}@{jid.Server}" if jid.User else jid.Server


def device_jid_str(jid) -> str:
    """`user:device@server` (whatsmeow's JID.String(); device 0 has no suffix); '' for an empty JID."""
    address = jid_str(jid)
    if not address or not jid.Device:
        return address
    user, _, server = address.partition("@")
    return f"{user}:{jid.Device}@{server}"


def iso_from_unix(seconds: int | float) -> str:
    """Unix seconds (or milliseconds) -> ISO 8601 UTC with Z."""
    if seconds > 10**11:  # whatsmeow gives milliseconds in some places
        seconds = seconds / 1000
    stamp = datetime.fromtimestamp(seconds or 0, UTC)
    return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def is_lid(address: str) -> bool:
    return address.endswith("@" + LID_SERVER)


def bare_jid(address: str) -> str:
    """'123.0:5@s.whatsapp.net' (a JID string with agent/device) -> '123@s.whatsapp.net'."""
    user, at, server = address.partition("@")
    return user.split(":")[0].split(".")[0] + at + server


def phone_jid(address: str, alt: str = "", resolve_lid: Resolver | None = None) -> str:
    """The phone JID of `address`: itself unless it is a LID; then `alt`, the resolver's answer, or the LID."""
    if not is_lid(address):
        return address
    if alt and not is_lid(alt):
        return alt
    return _resolved(address, resolve_lid) or address


def _resolved(lid: str, resolve_lid: Resolver | None) -> str | None:
    if resolve_lid is None:
        return None
    try:
        phone = resolve_lid(lid)
        return bare_jid(phone) if phone else None
    except Exception:  # a failed lookup (Go error, busy store) must not lose the message: keep the LID
        log.warning("could not map %s to a phone number", lid, exc_info=True)
        return None


def addresses(source, resolve_lid: Resolver | None = None) -> dict:
    """`chatId` / `from` as phone JIDs when known, plus `chatLid` / `fromLid` when WhatsApp used LIDs.

    whatsmeow puts the sender's phone JID in SenderAlt, and for a DM sent by the session's own
    devices the chat's phone JID in RecipientAlt (parseMessageSource).
    """
    chat, sender = jid_str(source.Chat), jid_str(source.Sender)
    data = {"chatId": chat, "from": sender}
    if is_lid(sender):
        data["from"], data["fromLid"] = phone_jid(sender, jid_str(source.SenderAlt), resolve_lid), sender
    if is_lid(chat):
        # An incoming DM's chat is its sender: one lookup serves both.
        known = data["from"] if chat == sender else phone_jid(chat, jid_str(source.RecipientAlt), resolve_lid)
        data["chatId"], data["chatLid"] = known, chat
    if is_incoming_broadcast(source):
        data["chatId"] = data["from"]
        if "fromLid" in data:
            data["chatLid"] = data["fromLid"]
    return data


def is_incoming_broadcast(source) -> bool:
    """whatsmeow's IsIncomingBroadcast: a contact's broadcast-list message, which WhatsApp shows in
    the direct chat with that contact (so its chat is the sender, not the list)."""
    chat = jid_str(source.Chat)
    return chat.endswith("@broadcast") and chat != STATUS_BROADCAST and not source.IsFromMe


def message_event_type(source) -> str | None:
    """message-received / message-from-me; a contact's status post is status-received, our own is None."""
    if jid_str(source.Chat) == STATUS_BROADCAST:
        return None if source.IsFromMe else "status-received"
    return "message-from-me" if source.IsFromMe else "message-received"


def message_data(info, resolve_lid: Resolver | None = None) -> dict:
    """The fields every message event shares (README.md, "Events")."""
    source = info.MessageSource
    return {"messageId": info.ID, **addresses(source, resolve_lid), "pushName": info.Pushname or None,
            "isGroup": bool(source.IsGroup) and not is_incoming_broadcast(source), "fromMe": bool(source.IsFromMe),
            "timestamp": iso_from_unix(info.Timestamp)}


def status_data(data: dict) -> dict:
    """A status post's data: no chat (status@broadcast says nothing to a CRM)."""
    return {key: value for key, value in data.items() if key not in ("chatId", "chatLid", "isGroup", "fromMe")}


def media_description(kind: str, media) -> dict:
    """What the message says about its media (before any download)."""
    return {"kind": kind, "mimetype": media.mimetype or None,
            "originalName": getattr(media, "fileName", "") or None,
            "fileSize": media.fileLength or None}


def context_data(message, resolve_lid: Resolver | None = None) -> dict:
    """`quoted {messageId, from, text?}` and `mentions` from the content's ContextInfo."""
    context = context_of(message)
    if context is None:
        return {}
    data: dict = {}
    if context.stanzaID:
        author = bare_jid(context.participant)
        quoted = {"messageId": context.stanzaID, "from": phone_jid(author, "", resolve_lid) or None}
        text = text_of(context.quotedMessage) if context.HasField("quotedMessage") else ""
        data["quoted"] = {**quoted, "text": text} if text else quoted
    if context.mentionedJID:
        data["mentions"] = [phone_jid(bare_jid(mentioned), "", resolve_lid) for mentioned in context.mentionedJID]
    return data


def map_message(event: N.Message, resolve_lid: Resolver | None = None) -> HubEventDraft | None:
    """MessageEv -> message-received / -from-me / status-received, or a revoke, edit or poll vote."""
    message = unwrap(event.Message)
    if message.HasField("protocolMessage"):
        return map_protocol(event, message.protocolMessage, resolve_lid)
    kind = message_event_type(event.Info.MessageSource)
    if kind is None or is_plumbing(message):
        return None
    if message.HasField("pollUpdateMessage"):
        return poll_vote(event, message.pollUpdateMessage, resolve_lid)
    content = content_of(message)
    data = {**message_data(event.Info, resolve_lid), "type": content.type, "text": content.text,
            **content.extra, **context_data(message, resolve_lid)}
    if content.media is not None:
        data["media"] = media_description(content.type, content.media)
    if kind == "status-received":
        return HubEventDraft(kind, status_data(data))  # its media is described, never downloaded
    return HubEventDraft(kind, data, content.media)


def map_protocol(event: N.Message, protocol, resolve_lid: Resolver | None = None) -> HubEventDraft | None:
    """Revokes and edits of chat messages; every other protocol message (the own phone's history-sync
    notices, app-state keys, settings) is plumbing between the session's devices: None."""
    in_status = jid_str(event.Info.MessageSource.Chat) == STATUS_BROADCAST
    # REVOKE is the enum's zero: a protocolMessage without a type must not read as one.
    if in_status or not (protocol.HasField("type") and protocol.HasField("key")):
        return None
    if protocol.type == E.ProtocolMessage.REVOKE:
        return revoked(event, protocol.key, resolve_lid)
    if protocol.type == E.ProtocolMessage.MESSAGE_EDIT:
        return edited(event, protocol, resolve_lid)
    return None


def revoked(event: N.Message, key, resolve_lid: Resolver | None = None) -> HubEventDraft:
    """message-revoked: `from` wrote the message, `revokedBy` deleted it (a group admin may delete
    someone else's: the key's participant names the author, whatsmeow BuildRevoke)."""
    source = event.Info.MessageSource
    where = addresses(source, resolve_lid)
    data = {"messageId": key.ID, **where, "revokedBy": where["from"], "fromMe": bool(source.IsFromMe),
            "timestamp": iso_from_unix(event.Info.Timestamp)}
    author = bare_jid(key.participant) if key.participant else ""
    if author and author not in (where["from"], where.get("fromLid")):
        data.pop("fromLid", None)
        data["from"] = phone_jid(author, "", resolve_lid)
        if is_lid(author):
            data["fromLid"] = author
    return HubEventDraft("message-revoked", data)


def edited(event: N.Message, protocol, resolve_lid: Resolver | None = None) -> HubEventDraft:
    """message-edited with the new text (whatsmeow BuildEdit: the edit's time is timestampMS)."""
    source = event.Info.MessageSource
    data = {"messageId": protocol.key.ID, **addresses(source, resolve_lid), "fromMe": bool(source.IsFromMe),
            "text": text_of(protocol.editedMessage),
            "editedAt": iso_from_unix(protocol.timestampMS or event.Info.Timestamp)}
    return HubEventDraft("message-edited", data)


def poll_vote(event: N.Message, update, resolve_lid: Resolver | None = None) -> HubEventDraft:
    """pollUpdateMessage -> a poll-vote draft the engine completes: the vote is encrypted with the
    poll's secret, so the engine runs goneonize's DecryptPollVote on `event` and calls complete_poll_vote."""
    source = event.Info.MessageSource
    data = {"pollMessageId": update.pollCreationMessageKey.ID, **addresses(source, resolve_lid),
            "fromMe": bool(source.IsFromMe), "selectedOptions": None, "timestamp": iso_from_unix(event.Info.Timestamp)}
    return HubEventDraft("poll-vote", data, decrypt="poll-vote", event=event)


def selected_options(hashes: list[bytes], option_names: list[str]) -> list[str]:
    """A decrypted vote's option hashes -> the options' text (an unknown hash -> its hex)."""
    by_hash = {hashlib.sha256(name.encode()).digest(): name for name in option_names}
    return [by_hash.get(bytes(digest), bytes(digest).hex()) for digest in hashes]


def complete_poll_vote(draft: HubEventDraft, hashes: list[bytes] | None, option_names: list[str],
                       error: str | None = None) -> HubEventDraft:
    """The poll-vote event to record once the engine decrypted the vote (or says why it could not)."""
    data = dict(draft.data)
    if error is not None or hashes is None:
        data["selectedOptions"], data["error"] = None, error or "the vote could not be decrypted"
    else:
        data["selectedOptions"] = selected_options(hashes, option_names)
    return HubEventDraft(draft.type, data)


def map_undecryptable(event: N.UndecryptableMessage, resolve_lid: Resolver | None = None) -> HubEventDraft | None:
    """UndecryptableMessageEv -> a message event of type `undecryptable`: the CRM learns a message came
    (whatsmeow asks the sender's phone to resend it; if that works, the message follows with the same id)."""
    kind = message_event_type(event.Info.MessageSource)
    if kind is None:
        return None
    data = {**message_data(event.Info, resolve_lid), "type": "undecryptable", "text": "",
            "undecryptable": {"isUnavailable": bool(event.IsUnavailable),
                              "decryptFailMode": DECRYPT_FAIL_MODES.get(event.DecryptFailMode, "show")}}
    return HubEventDraft(kind, status_data(data) if kind == "status-received" else data)


def map_receipt(event: N.Receipt, resolve_lid: Resolver | None = None) -> HubEventDraft | None:
    """ReceiptEv -> message-delivered / message-read, only for what the session sent: the owner's own
    reads on another device (IsFromMe) and the other receipt kinds (retry, *-self, ...) are None."""
    kind = RECEIPT_EVENTS.get(event.Type)
    if kind is None or event.MessageSource.IsFromMe:
        return None
    return HubEventDraft(kind, {"messageIds": list(event.MessageIDs), **addresses(event.MessageSource, resolve_lid),
                                "timestamp": iso_from_unix(event.Timestamp)})

def map_chat_presence(event: N.ChatPresence, resolve_lid: Resolver | None = None) -> HubEventDraft:
    """ChatPresenceEv (whatsmeow events.ChatPresence) -> chat-presence: typing, recording (audio) or paused."""
    state = "paused" if event.State == N.ChatPresence.PAUSED else \
        "recording" if event.Media == N.ChatPresence.AUDIO else "typing"
    return HubEventDraft("chat-presence", {**addresses(event.MessageSource, resolve_lid), "state": state})


def map_lifecycle(event) -> StatusChange | None:
    """Connection events -> the status the session moves to (None: no change)."""
    if isinstance(event, N.Connected):
        return StatusChange(SessionStatus.CONNECTED)
    if isinstance(event, N.PairStatus):
        if event.Status == N.PairStatus.SUCCESS:
            return StatusChange(SessionStatus.STARTING, jid=jid_str(event.ID), device_jid=device_jid_str(event.ID),
                                push_name=event.BusinessName or None)
        return StatusChange(SessionStatus.QR, reason=f"pairing failed: {event.Error}")
    if isinstance(event, N.LoggedOut):
        reason = LOGOUT_REASONS.get(event.Reason, f"logged_out ({failure_name(event.Reason)})")
        return StatusChange(SessionStatus.LOGGED_OUT, reason=reason, reconnect=False)
    return _trouble(event)


def failure_name(reason: int) -> str:
    """LOGGED_OUT, TEMP_BANNED, ... or the bare number for codes this neonize does not know."""
    try:
        return N.ConnectFailureReason.Name(reason)
    except ValueError:
        return str(reason)


def ban_name(event: N.TemporaryBan) -> str:
    """SEND_TO_TOO_MANY_PEOPLE, BLOCKED_BY_USERS, ... (the number when unknown)."""
    value = event.DESCRIPTOR.fields_by_name["Code"].enum_type.values_by_number.get(event.Code)
    return value.name if value is not None else f"code {event.Code}"


def _trouble(event) -> StatusChange | None:
    if isinstance(event, N.Disconnected):
        return StatusChange(SessionStatus.DISCONNECTED, reason="connection lost")
    if isinstance(event, N.StreamReplaced):
        return StatusChange(SessionStatus.DISCONNECTED, reconnect=False,
                            reason="stream_replaced: another client connected with this session's keys")
    if isinstance(event, N.TemporaryBan):
        return StatusChange(SessionStatus.DISCONNECTED, reconnect=True, retry_after=float(event.Expire or 3600),
                            reason=f"temporary_ban: {ban_name(event)}, expires in {event.Expire} s")
    if isinstance(event, N.ClientOutdated):
        return StatusChange(SessionStatus.DISCONNECTED, reconnect=False,
                            reason="client_outdated: WhatsApp rejected this client version; upgrade neonize")
    if isinstance(event, N.ConnectFailure):
        name = failure_name(event.Reason) if event.Reason else "GENERIC"
        return StatusChange(SessionStatus.DISCONNECTED, reason=f"connect_failure: {name} {event.Message}".strip())
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
        return StatusChange(SessionStatus.STOPPED, reason=text, reconnect=False)
    if any(marker in lowered for marker in STORE_ERRORS):
        return StatusChange(SessionStatus.LOGGED_OUT, reconnect=False, forget_credentials=False,
                            reason=f"store_unreadable: the session's WhatsApp store cannot be opened ({text}); "
                                   "restore it from a backup, or delete the session and link it again")
    if any(marker in lowered for marker in DNS_ERRORS):
        return StatusChange(SessionStatus.DISCONNECTED, reason=DNS_REASON)
    return StatusChange(SessionStatus.DISCONNECTED, reason=f"connect_failed: {text}")


def map_event(event, resolve_lid: Resolver | None = None) -> HubEventDraft | StatusChange | None:
    """Any neonize event -> what the hub does with it. Unknown events -> None.

    `resolve_lid` maps a LID to its phone JID when the event carries no alternative address
    (the engine backs it with goneonize's GetPNFromLID); without it, or when it knows nothing,
    `from` / `chatId` stay the LID.
    """
    if isinstance(event, N.Message):
        return map_message(event, resolve_lid)
    if isinstance(event, N.UndecryptableMessage):
        return map_undecryptable(event, resolve_lid)
    if isinstance(event, N.Receipt):
        return map_receipt(event, resolve_lid)
    if isinstance(event, N.ChatPresence):
        return map_chat_presence(event, resolve_lid)
    if isinstance(event, N.CallOffer):
        return map_call_offer(event, resolve_lid)
    return map_lifecycle(event)


def map_call_offer(event: N.CallOffer, resolve_lid: Resolver | None = None) -> HubEventDraft:
    """whatsmeow events.CallOffer -> call-received (`rejected` is settled by the session's settings).

    The caller is `callCreator` (its phone JID when WhatsApp gave the LID and the phone is known);
    a video call's <offer> node has a <video> child; a group call's offer carries a `group-jid`.
    """
    meta = event.basicCallMeta
    creator = jid_str(meta.callCreator) or jid_str(getattr(meta, "from"))
    alt = jid_str(meta.callCreatorAlt)
    data = {"callId": meta.callID, "from": phone_jid(creator, alt, resolve_lid),
            "isVideo": any(node.Tag == "video" for node in event.data.Nodes),
            "isGroup": any(attr.name == "group-jid" for attr in event.data.Attrs), "rejected": False,
            "timestamp": iso_from_unix(meta.timestamp)}
    lid = creator if is_lid(creator) else alt if is_lid(alt) else None
    if lid:
        data["fromLid"] = lid
    return HubEventDraft("call-received", data, event=event)
