"""Typed models of messages: the history (inbound + outbound), the send queue, inbound media files."""
from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, Integer, LargeBinary, bindparam, select, update
from sqlalchemy.orm import Mapped, deferred, mapped_column

from hub.rules import MIMETYPE_MAX_LENGTH
from hub.store.ids import new_id
from hub.store.models import Base, CleanString, CleanText, clean_json, isoformat, utcnow


class MessageStatus(StrEnum):
    """A history message's state: received, or sent and then moved forward by WhatsApp receipts."""

    RECEIVED = "received"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"


# Receipt progression of a sent message; a late "delivered" never overwrites "read".
RECEIPT_ORDER = {MessageStatus.SENT: 1, MessageStatus.DELIVERED: 2, MessageStatus.READ: 3}


class OutboundStatus(StrEnum):
    """An accepted send's state (the values the send API shows)."""

    QUEUED = "queued"
    SENDING = "sending"  # claimed by a sender; the API shows it as "queued"
    SENT = "sent"
    FAILED = "failed"  # final: given up (engine errors, or too old)


WAITING = (OutboundStatus.QUEUED, OutboundStatus.SENDING)  # not sent yet and not given up
FINAL_STATUSES = (OutboundStatus.SENT, OutboundStatus.FAILED)  # the payload is dropped: the bytes are no longer needed


class MediaStatus(StrEnum):
    """An inbound media file's state."""

    DOWNLOADING = "downloading"
    STORED = "stored"
    FAILED = "failed"
    EXPIRED = "expired"  # deleted by retention


def parse_iso(text: str | None) -> datetime:
    """An event's ISO timestamp ('...Z') -> aware datetime; now when missing or malformed."""
    try:
        return datetime.fromisoformat(text) if text else utcnow()
    except ValueError:
        return utcnow()


class Message(Base):
    """One message in a session's history: received (direction "in") or sent (direction "out")."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_session_time", "session_id", "timestamp"),
                      Index("ix_messages_session_chat_time", "session_id", "chat_id", "timestamp"),
                      # receipts look their messages up by id within a session (hub/sessions/inbound.py)
                      Index("ix_messages_session_message", "session_id", "message_id"),
                      # a person's chat addressed by LID merges with their phone chat (hub/outbound/chats.py)
                      Index("ix_messages_session_chat_lid", "session_id", "chat_lid"))

    id: Mapped[str] = mapped_column(CleanString(40), primary_key=True)
    session_id: Mapped[str] = mapped_column(CleanString(64))
    direction: Mapped[str] = mapped_column(CleanString(3))
    message_id: Mapped[str | None] = mapped_column(CleanString(128), index=True)
    chat_id: Mapped[str] = mapped_column(CleanString(128))
    sender: Mapped[str | None] = mapped_column(CleanString(128))
    recipient: Mapped[str | None] = mapped_column(CleanString(128))
    type: Mapped[str] = mapped_column(CleanString(16))
    text: Mapped[str | None] = mapped_column(CleanText)
    media: Mapped[dict | None]
    status: Mapped[str] = mapped_column(CleanString(16))
    outbound_id: Mapped[str | None] = mapped_column(CleanString(40))
    timestamp: Mapped[datetime] = mapped_column(default=utcnow)
    quoted_id: Mapped[str | None] = mapped_column(CleanString(128))  # the message it replies to
    mentions: Mapped[list | None] = mapped_column(JSON)  # the JIDs it mentions
    push_name: Mapped[str | None] = mapped_column(CleanString(128))
    chat_lid: Mapped[str | None] = mapped_column(CleanString(128))
    # What actions did to the message (hub/store/actions.py): edits keep the first text, revokes and reactions.
    original_text: Mapped[str | None] = mapped_column(CleanText)
    edited_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(CleanString(128))
    reactions: Mapped[dict | None]  # reactor JID -> emoji

    @classmethod
    def from_event(cls, session_id: str, data: dict) -> Message:
        """The history row of a message-received / message-from-me event's data."""
        from_me = bool(data.get("fromMe"))
        return cls(id=new_id("msg"), session_id=session_id, direction="out" if from_me else "in",
                   message_id=data.get("messageId"), chat_id=data.get("chatId") or "",
                   sender=data.get("from"), recipient=data.get("chatId") if from_me else None,
                   type=data.get("type") or "other", text=data.get("text") or None, media=clean_json(data.get("media")),
                   status=MessageStatus.SENT if from_me else MessageStatus.RECEIVED,
                   timestamp=parse_iso(data.get("timestamp")), quoted_id=(data.get("quoted") or {}).get("messageId"),
                   mentions=clean_json(data.get("mentions")) or None, push_name=data.get("pushName"),
                   chat_lid=data.get("chatLid"))

    @staticmethod
    def outbound_values(outbound: Outbound, sender: str | None) -> dict:
        """The history row of a message the API sent (`sender`: the session's own JID), as column values.

        Plain values, not a Message: these rows are only ever inserted in bulk, on the hot send path,
        where building an ORM object per row costs more than inserting it.
        """
        media = {"fileName": outbound.file_name, "mimetype": outbound.mimetype} if outbound.mimetype else None
        content = outbound.content or {}
        return {"quoted_id": (content.get("quoted") or {}).get("messageId"), "mentions": content.get("mentions"),
                "id": new_id("msg"), "session_id": outbound.session_id, "direction": "out",
                "message_id": outbound.message_id, "chat_id": outbound.to, "sender": sender,
                "recipient": outbound.to, "type": outbound.type, "text": outbound.text, "media": media,
                "status": MessageStatus.SENT, "outbound_id": outbound.id, "timestamp": outbound.sent_at or utcnow()}

    @staticmethod
    def apply_receipts(db, session_id: str, message_ids: list[str], status: str) -> None:
        """Move these sent messages forward to "delivered" or "read" (never back): one UPDATE run per id."""
        if message_ids:  # executemany: one statement text whatever the number of ids (an IN list is not)
            db.connection().execute(_RECEIPT_UPDATES[status], [{"b_session_id": session_id, "b_message_id": message_id}
                                                               for message_id in message_ids])

    def to_dict(self) -> dict:
        return {"id": self.id, "direction": self.direction, "messageId": self.message_id,
                "chatId": self.chat_id, "from": self.sender, "to": self.recipient, "type": self.type,
                "text": self.text, "media": self.media, "status": self.status,
                "outboundId": self.outbound_id, "timestamp": isoformat(self.timestamp),
                "quotedId": self.quoted_id, "mentions": self.mentions or [],
                **self.actions_dict()}

    def edit(self, text: str, at: datetime) -> None:
        """An edit arrived or was sent: the new text shows, the first one is kept."""
        if self.original_text is None:
            self.original_text = self.text
        self.text, self.edited_at = text, at

    def revoke(self, by: str | None, at: datetime) -> None:
        """Deleted for everyone (by its author, or by a group admin)."""
        self.revoked_at, self.revoked_by = at, by

    def react(self, reactor: str, emoji: str) -> None:
        """`reactor`'s reaction; an empty emoji removes it (whatsmeow RemoveReactionText)."""
        reactions = dict(self.reactions or {})  # a new dict: the JSON column sees the change
        if emoji:
            reactions[reactor] = emoji
        else:
            reactions.pop(reactor, None)
        self.reactions = reactions or None

    def actions_dict(self) -> dict:
        """What edits, revokes and reactions did to the message, for the API."""
        return {"pushName": self.push_name, "chatLid": self.chat_lid, "edited": self.edited_at is not None,
                "originalText": self.original_text, "editedAt": isoformat(self.edited_at),
                "revoked": self.revoked_at is not None, "revokedBy": self.revoked_by,
                "revokedAt": isoformat(self.revoked_at),
                "reactions": [{"from": who, "emoji": emoji} for who, emoji in (self.reactions or {}).items()]}


def _receipt_update(status: str):
    """The UPDATE moving one sent message forward to `status` (never back: a late "delivered" after "read")."""
    table = Message.__table__
    not_behind = [name for name, rank in RECEIPT_ORDER.items() if rank >= RECEIPT_ORDER[status]]
    return update(table).where(table.c.session_id == bindparam("b_session_id"), table.c.direction == "out",
                               table.c.message_id == bindparam("b_message_id"),
                               *(table.c.status != name for name in not_behind)).values(status=status)


_RECEIPT_UPDATES = {status: _receipt_update(status) for status in (MessageStatus.DELIVERED, MessageStatus.READ)}


class Outbound(Base):
    """A message accepted by the send API: queued until sent, failed, or given up."""

    __tablename__ = "outbound"
    __table_args__ = (Index("ix_outbound_session_status", "session_id", "status", "seq"),
                      # "which sessions have a due message": one probe per session (hub/outbound/queue.py)
                      Index("ix_outbound_status_session_due", "status", "session_id", "next_attempt_at"))

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)  # send order
    id: Mapped[str] = mapped_column(CleanString(40), unique=True)
    session_id: Mapped[str] = mapped_column(CleanString(64))
    to: Mapped[str] = mapped_column(CleanString(128))
    type: Mapped[str] = mapped_column(CleanString(16))
    text: Mapped[str | None] = mapped_column(CleanText)
    file_name: Mapped[str | None] = mapped_column(CleanString(255))
    mimetype: Mapped[str | None] = mapped_column(CleanString(MIMETYPE_MAX_LENGTH))
    # The media bytes stay in the row until sent, so a queued send survives a restart.
    payload: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    status: Mapped[str] = mapped_column(CleanString(16), default=OutboundStatus.QUEUED)
    message_id: Mapped[str | None] = mapped_column(CleanString(128))
    error: Mapped[str | None] = mapped_column(CleanText)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    idempotency_key: Mapped[str | None] = mapped_column(CleanString(255), unique=True)
    request_hash: Mapped[str | None] = mapped_column(CleanString(64))
    # What is sent besides text and media: quote, mentions, link preview, location, contact, poll
    # (hub/outbound/kinds.py); kept until sent, like the payload, so a queued send survives a restart.
    content: Mapped[dict | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    # An action's message (reaction, edit, revoke: `to` is its chat) and its author (hub/outbound/actions.py).
    target_id: Mapped[str | None] = mapped_column(CleanString(128))
    target_sender: Mapped[str | None] = mapped_column(CleanString(128))

    def __init__(self, **fields):
        """A new send, queued and due now unless told otherwise."""
        now = utcnow()
        fields = {"status": OutboundStatus.QUEUED, "attempts": 0, "created_at": now, "next_attempt_at": now, **fields}
        super().__init__(**fields)

    @classmethod
    def by_id(cls, db, outbound_id: str) -> Outbound | None:
        """The row with this public id (`out_...`)."""
        return db.scalar(select(cls).where(cls.id == outbound_id))

    def save_state(self, db) -> None:
        """Write what a send's outcome changed, by id with one Core UPDATE (no read back)."""
        Outbound.save_states(db, [self])

    @staticmethod
    def save_states(db, rows: list[Outbound]) -> None:
        """`save_state` for many rows: one executemany UPDATE per kind of outcome."""
        for final in (False, True):
            values = [{"row_id": row.id, "status": row.status, "message_id": row.message_id, "error": row.error,
                       "attempts": row.attempts, "next_attempt_at": row.next_attempt_at, "sent_at": row.sent_at}
                      for row in rows if (row.status in FINAL_STATUSES) == final]
            if values:
                statement = _SAVE_FINAL_STATE if final else _SAVE_STATE
                db.connection().execute(statement, values if len(values) > 1 else values[0])

    def claim(self) -> None:
        """Taken by a sender (the API request or the queue worker)."""
        self.status = OutboundStatus.SENDING
        self.attempts += 1

    def take(self, db) -> bool:
        """Claim a queued row in the database too, only if it is still queued: one sender per row, whatever races it."""
        taken = db.connection().execute(_TAKE_QUEUED, {"row_id": self.id}).rowcount == 1
        if taken:
            self.claim()
        return taken

    def mark_sent(self, message_id: str) -> None:
        self.status, self.message_id, self.error = OutboundStatus.SENT, message_id, None
        self.sent_at = utcnow()
        self.payload = None  # delivered: the bytes are no longer needed

    def requeue(self, error: str | None = None, delay: float = 0.0) -> None:
        """Back to the queue (session offline, or a retry after `delay` seconds)."""
        self.status, self.error = OutboundStatus.QUEUED, error
        self.next_attempt_at = utcnow() + timedelta(seconds=delay)

    def postpone(self, delay: float) -> None:
        """Back to the queue until its turn under the session's send limits (the claim was not an attempt)."""
        self.status, self.attempts = OutboundStatus.QUEUED, self.attempts - 1
        self.next_attempt_at = utcnow() + timedelta(seconds=delay)

    def mark_failed(self, error: str) -> None:
        self.status, self.error = OutboundStatus.FAILED, error
        self.payload = None

    def event_data(self) -> dict:
        """The data of its message-sent / message-failed event."""
        data = {"outboundId": self.id, "to": self.to, "type": self.type}
        if self.message_id:
            data["messageId"] = self.message_id
        if self.text:
            data["text"] = self.text
        data.update(sent_content(self.content))
        if self.target_id:
            data["targetMessageId"] = self.target_id
        if self.status == OutboundStatus.FAILED:
            data["error"] = self.error
        return data

    def to_dict(self) -> dict:
        return {"id": self.id, "sessionId": self.session_id, "to": self.to, "type": self.type,
                "text": self.text, "fileName": self.file_name, "status": self.status, "targetMessageId": self.target_id,
                "messageId": self.message_id, "error": self.error, "attempts": self.attempts,
                "nextAttemptAt": isoformat(self.next_attempt_at) if self.status == OutboundStatus.QUEUED else None,
                "createdAt": isoformat(self.created_at), "sentAt": isoformat(self.sent_at)}


def sent_content(content: dict | None) -> dict:
    """What a message-sent event says about a send's structured content (README.md, "Events")."""
    if not content:
        return {}
    data = {key: content[key] for key in ("mentions", "location", "poll", "linkPreview") if key in content}
    if "quoted" in content:
        data["quoted"] = {"messageId": content["quoted"]["messageId"]}
    if "contact" in content:
        data["contacts"] = [content["contact"]]
    if "poll" in content:  # the event's shape (README, Events): multiple = more than one answer allowed
        data["poll"] = {**content["poll"], "multiple": content["poll"]["selectableCount"] != 1}
    return data


# Built once: a statement built per call costs more than the UPDATE itself.
_SAVE_STATE = update(Outbound.__table__).where(Outbound.__table__.c.id == bindparam("row_id")).values(
    {name: bindparam(name) for name in ("status", "message_id", "error", "attempts", "next_attempt_at", "sent_at")})
_SAVE_FINAL_STATE = _SAVE_STATE.values(payload=None)
# A queue worker's claim (hub/outbound/queue.py): another process's worker may race it for the same row.
_TAKE_QUEUED = update(Outbound.__table__).where(Outbound.__table__.c.id == bindparam("row_id"),
                                                Outbound.__table__.c.status == OutboundStatus.QUEUED).values(
    status=OutboundStatus.SENDING, attempts=Outbound.__table__.c.attempts + 1)


class MediaFile(Base):
    """An inbound media file: recorded before its download, finished (stored or failed) after it.

    Until it is finished it keeps what is needed to download it again after a restart: the
    serialized waE2E message content and the draft of the event to record.
    """

    __tablename__ = "media_files"

    id: Mapped[str] = mapped_column(CleanString(40), primary_key=True)
    session_id: Mapped[str] = mapped_column(CleanString(64), index=True)
    message_row_id: Mapped[str] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(CleanString(16), default=MediaStatus.DOWNLOADING, index=True)
    kind: Mapped[str] = mapped_column(CleanString(16))
    mimetype: Mapped[str | None] = mapped_column(CleanString(MIMETYPE_MAX_LENGTH))
    original_name: Mapped[str | None] = mapped_column(CleanString(255))
    file_name: Mapped[str | None] = mapped_column(CleanString(64), index=True)
    file_size: Mapped[int | None]
    sha256: Mapped[str | None] = mapped_column(CleanString(64))
    error: Mapped[str | None] = mapped_column(CleanText)
    content: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    event_type: Mapped[str] = mapped_column(CleanString(32))
    event_data: Mapped[dict | None]
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    def restart_download(self) -> None:
        self.status, self.started_at = MediaStatus.DOWNLOADING, utcnow()
        self.attempts += 1

    def mark_stored(self, file_name: str, size: int, sha256: str) -> None:
        self.status, self.file_name, self.file_size, self.sha256 = MediaStatus.STORED, file_name, size, sha256
        self._finish()

    def mark_failed(self, error: str) -> None:
        self.status, self.error = MediaStatus.FAILED, error
        self._finish()

    def _finish(self) -> None:
        self.finished_at = utcnow()
        self.content, self.event_data = None, None

    def describe(self, public_url: str) -> dict:
        """The event's `media`: the stored file, or why it is missing."""
        if self.status == MediaStatus.STORED:
            return {"fileUrl": f"{public_url.rstrip('/')}/uploads/{self.file_name}",
                    "fileName": self.file_name, "originalName": self.original_name,
                    "mimetype": self.mimetype, "fileSize": self.file_size, "sha256": self.sha256}
        return {"error": self.error, "mimetype": self.mimetype, "originalName": self.original_name}
