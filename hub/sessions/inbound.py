"""What happens to a mapped message or receipt: it becomes a stored hub event.

Messages also become history rows (in the event's transaction); media messages are recorded
first, then downloaded to uploads/ (hub.media.downloads) before their event is recorded.
Receipts move the sent messages' history status forward (sent -> delivered -> read).
"""
from __future__ import annotations

from hub.media import downloads
from hub.sessions.mapping import HubEventDraft
from hub.store import Message

MESSAGE_EVENTS = ("message-received", "message-from-me")
RECEIPT_STATUSES = {"message-delivered": "delivered", "message-read": "read"}


def ingest(manager, session_id: str, draft: HubEventDraft) -> dict:
    """Record the event for `draft` (with its history and media); returns its envelope."""
    live = manager.live.get(session_id)
    sandbox = live is not None and live.engine.name == "sandbox"
    if draft.type in MESSAGE_EVENTS and draft.media is not None:
        return downloads.receive(manager, session_id, draft, live.engine if live else None)

    def write(db) -> dict:  # shares a commit with the sends and messages of the moment
        if draft.type in MESSAGE_EVENTS:
            Message.from_event(session_id, draft.data).insert_into(db)
        elif draft.type in RECEIPT_STATUSES:
            Message.apply_receipts(db, session_id, draft.data.get("messageIds") or [], RECEIPT_STATUSES[draft.type])
        return manager.events.record(draft.type, session_id, draft.data, sandbox=sandbox)
    return manager.store.writes.run(write)
