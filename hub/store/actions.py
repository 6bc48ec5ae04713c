"""What reactions, edits and revokes do to the history of the message they act on.

Both directions land here: an action the session sent (hub/outbound/settle.py, once WhatsApp took
it) and one that arrived (hub/sessions/inbound.py: `message-edited`, `message-revoked`, a
`message-received` of type reaction). A message the history does not hold is left alone: the
event still says what happened.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from hub.store.messages import Message, parse_iso

ACTION_KINDS = ("reaction", "edit", "revoke")


def target(db, session_id: str, message_id: str | None) -> Message | None:
    """The history row of the message an action acts on (the session's own copy), or None."""
    if not message_id:
        return None
    return db.scalar(select(Message).where(Message.session_id == session_id, Message.message_id == message_id)
                     .order_by(Message.timestamp).limit(1))


def apply(db, session_id: str, kind: str, message_id: str | None, actor: str | None, value: str | None,
          at: datetime) -> None:
    """Record one action on its message: `value` is the emoji (reaction) or the new text (edit)."""
    message = target(db, session_id, message_id)
    if message is None:
        return
    if kind == "reaction":
        message.react(actor or "", value or "")
    elif kind == "edit":
        message.edit(value or "", at)
    elif kind == "revoke":
        message.revoke(actor, at)


def apply_event(db, session_id: str, event_type: str, data: dict) -> None:
    """The history side of an inbound event that acts on an earlier message (nothing for other events)."""
    at = parse_iso(data.get("editedAt") or data.get("timestamp"))
    if event_type == "message-edited":
        apply(db, session_id, "edit", data.get("messageId"), data.get("from"), data.get("text"), at)
    elif event_type == "message-revoked":
        apply(db, session_id, "revoke", data.get("messageId"), data.get("revokedBy"), None, at)
    elif data.get("type") == "reaction" and data.get("reaction"):
        reaction = data["reaction"]
        if reaction.get("emoji") is not None:  # an encrypted reaction says nothing about which emoji
            apply(db, session_id, "reaction", reaction.get("messageId"), data.get("from"), reaction["emoji"], at)
