"""Message history: what a session received and sent, newest first."""
from __future__ import annotations

from sqlalchemy import select

from hub.context import HubContext
from hub.sessions.jids import normalise_jid
from hub.store import Message


def list_messages(context: HubContext, session_id: str, chat_id: str | None, limit: int, offset: int) -> dict:
    """A page of the session's messages (404 for an unknown session), optionally of one chat."""
    context.sessions.get(session_id)
    statement = select(Message).where(Message.session_id == session_id)
    if chat_id:
        statement = statement.where(Message.chat_id == normalise_jid(chat_id, "chatId"))
    statement = statement.order_by(Message.timestamp.desc(), Message.id.desc()).limit(limit).offset(offset)
    with context.store.session() as db:
        messages = [row.to_dict() for row in db.scalars(statement)]
    return {"messages": messages, "limit": limit, "offset": offset}
