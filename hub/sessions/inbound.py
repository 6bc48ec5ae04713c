"""What happens to a mapped message or receipt: it becomes a stored hub event.

Messages also become history rows (in the event's transaction). A message WhatsApp delivers
again (it was stored, but the hub died before WhatsApp got the acknowledgement) is stored
once: history and events de-duplicate by WhatsApp message id. Media messages are handed to the
media handler installed by `hub.media` (it commits the message before downloading, so the
acknowledgement never waits for a download). Receipts move the sent messages' history status
forward (sent -> delivered -> read).
"""
from __future__ import annotations

from sqlalchemy import bindparam, select

from hub.sessions.mapping import HubEventDraft
from hub.store import Message, actions

MESSAGE_EVENTS = ("message-received", "message-from-me")
RECEIPT_STATUSES = {"message-delivered": "delivered", "message-read": "read"}
ACTION_EVENTS = ("message-edited", "message-revoked")  # they change an earlier message's history row
ALREADY_STORED = select(Message.id).where(Message.session_id == bindparam("session_id"),
                                          Message.message_id == bindparam("message_id")).limit(1)


def ingest(manager, session_id: str, draft: HubEventDraft) -> dict | None:
    """Record the event for `draft` (durably, before returning); its envelope, or None when deferred or a repeat."""
    sandbox = manager.engine_name(session_id) == "sandbox"
    if draft.type in MESSAGE_EVENTS and draft.media is not None and manager.media_handler is not None:
        manager.media_handler(manager, session_id, draft)
        return None

    def write(db) -> dict | None:  # shares a commit with the sends and messages of the moment
        if draft.type in MESSAGE_EVENTS:
            if already_stored(db, session_id, draft.data.get("messageId")):
                return None
            Message.from_event(session_id, draft.data).insert_into(db)
            if draft.data.get("type") == "reaction":
                actions.apply_event(db, session_id, draft.type, draft.data)
        elif draft.type in ACTION_EVENTS:
            actions.apply_event(db, session_id, draft.type, draft.data)
        elif draft.type in RECEIPT_STATUSES:
            Message.apply_receipts(db, session_id, draft.data.get("messageIds") or [], RECEIPT_STATUSES[draft.type])
        return manager.events.record(draft.type, session_id, draft.data, sandbox=sandbox)
    return manager.store.writes.run(write)


def already_stored(db, session_id: str, message_id: str | None) -> bool:
    """Whether history already holds this WhatsApp message (a redelivery)."""
    if not message_id:
        return False
    found = db.connection().scalar(ALREADY_STORED, {"session_id": session_id, "message_id": message_id})
    return found is not None
