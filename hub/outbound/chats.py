"""Chats from history (one row per chat, a person's LID and phone chats merged) and the immediate chat actions.

WhatsApp may address one person by their phone JID or by their LID. Events name the phone JID
whenever it is known (hub/sessions/mapping.py), so most rows already agree; a row stored while only
the LID was known is merged into the phone chat through the pairs the history itself recorded
(`chat_lid` beside a phone `chat_id`) or the session's LID store (goneonize GetPNFromLID).
Immediate actions (read receipts, presence) need a connection: 409 session_not_connected otherwise.
"""
from __future__ import annotations

from sqlalchemy import and_, case, func, or_, select, update

from hub.cluster.commands import on_holder
from hub.context import HubContext
from hub.errors import NotFound, Unavailable
from hub.sessions.engine import Engine, EngineError, NotConnected
from hub.sessions.jids import normalise_jid
from hub.sessions.mapping import is_lid
from hub.store import Message
from hub.store.messages import MessageStatus

UNREAD = and_(Message.direction == "in", Message.status == MessageStatus.RECEIVED, Message.type != "reaction")
SHOWN = Message.type != "reaction"  # a reaction shows on the message it reacts to, not as a message


def known_lids(db, session_id: str) -> dict[str, str]:
    """LID -> phone JID pairs the history recorded (rows that carried both)."""
    pairs = db.execute(select(Message.chat_lid, Message.chat_id).where(
        Message.session_id == session_id, Message.chat_lid.is_not(None)).distinct()).all()
    return {lid: chat for lid, chat in pairs if not is_lid(chat)}


def phone_chat(context: HubContext, session_id: str, chat: str, lids: dict[str, str]) -> str:
    """The chat a row belongs to: a LID chat goes to its person's phone chat when known."""
    if not is_lid(chat):
        return chat
    if chat in lids:
        return lids[chat]
    engine = context.sessions.connected_engine(session_id)
    phone = engine.phone_of_lid(chat) if engine is not None else None
    return phone or chat


def list_chats(context: HubContext, session_id: str, limit: int, offset: int) -> dict:
    """A page of the session's chats, most recent first: chatId, name, lastMessage, unreadCount."""
    context.sessions.get(session_id)
    per_chat = select(Message.chat_id, func.max(Message.timestamp), func.sum(case((UNREAD, 1), else_=0))).where(
        Message.session_id == session_id, SHOWN).group_by(Message.chat_id)
    with context.store.session() as db:
        lids = known_lids(db, session_id)
        merged: dict[str, dict] = {}
        for chat, last, unread in db.execute(per_chat):
            key = phone_chat(context, session_id, chat, lids)
            entry = merged.setdefault(key, {"chatIds": [], "last": last, "unread": 0})
            entry["chatIds"].append(chat)
            entry["last"], entry["unread"] = max(entry["last"], last), entry["unread"] + int(unread or 0)
        page = sorted(merged.items(), key=lambda item: item[1]["last"], reverse=True)[offset:offset + limit]
        chats = [chat_view(db, session_id, chat, entry) for chat, entry in page]
    return {"chats": chats, "total": len(merged), "limit": limit, "offset": offset}


def chat_view(db, session_id: str, chat: str, entry: dict) -> dict:
    """One chat's row: its name (the latest push name the other side sent), last message, unread count."""
    in_chat = and_(Message.session_id == session_id, Message.chat_id.in_(entry["chatIds"]))
    last = db.scalar(select(Message).where(in_chat, SHOWN).order_by(Message.timestamp.desc()).limit(1))
    name = db.scalar(select(Message.push_name).where(in_chat, Message.direction == "in",
                                                     Message.push_name.is_not(None))
                     .order_by(Message.timestamp.desc()).limit(1))
    lid = next((chat_id for chat_id in entry["chatIds"] if is_lid(chat_id)), None)
    return {"chatId": chat, "chatLid": lid, "isGroup": chat.endswith("@g.us"), "name": name,
            "lastMessage": last.to_dict() if last else None, "unreadCount": entry["unread"]}


def chat_ids(db, session_id: str, chat: str) -> list[str]:
    """Every chat id of the history that is this chat (its phone JID and the LIDs that map to it)."""
    lids = known_lids(db, session_id)
    aliases = [lid for lid, phone in lids.items() if phone == chat]
    return [chat, *aliases, *([lids[chat]] if chat in lids else [])]


def chat_messages(context: HubContext, session_id: str, chat: str, limit: int, before: str | None,
                  after: str | None) -> dict:
    """A page of one chat's messages, newest first; `before` / `after`: a message id of that chat."""
    context.sessions.get(session_id)
    chat = normalise_jid(chat, "chatId")
    with context.store.session() as db:
        ids = chat_ids(db, session_id, chat)
        statement = select(Message).where(Message.session_id == session_id, Message.chat_id.in_(ids), SHOWN)
        for cursor, newer in ((before, False), (after, True)):
            if cursor:
                statement = statement.where(beyond(db, session_id, ids, cursor, newer))
        order = (Message.timestamp.asc(), Message.id.asc()) if after and not before else \
            (Message.timestamp.desc(), Message.id.desc())
        rows = [row.to_dict() for row in db.scalars(statement.order_by(*order).limit(limit))]
    if after and not before:
        rows.reverse()  # the page just after the cursor, shown newest first like every page
    return {"chatId": chat, "messages": rows, "limit": limit}


def beyond(db, session_id: str, ids: list[str], message_id: str, newer: bool):
    """Rows older (or newer) than the cursor message; 404 when the chat has no such message."""
    cursor = db.execute(select(Message.timestamp, Message.id).where(
        Message.session_id == session_id, Message.chat_id.in_(ids), Message.message_id == message_id)).first()
    if cursor is None:
        raise NotFound(f"Message '{message_id}' is not in this chat's history.", code="message_not_found")
    stamp, row_id = cursor
    if newer:
        return or_(Message.timestamp > stamp, and_(Message.timestamp == stamp, Message.id > row_id))
    return or_(Message.timestamp < stamp, and_(Message.timestamp == stamp, Message.id < row_id))


def connected(context: HubContext, session_id: str) -> Engine:
    """The session's engine while connected; 404 unknown session, 409 session_not_connected."""
    context.sessions.peek(session_id)
    engine = context.sessions.connected_engine(session_id)
    if engine is None:
        raise NotConnected(f"Session '{session_id}' is not connected to WhatsApp; read receipts and presence "
                           f"are not queued.")
    return engine


@on_holder
def mark_read(context: HubContext, session_id: str, chat: str, message_ids: list[str] | None) -> dict:
    """Read receipts for the chat's unread messages (or the given ids); they no longer count as unread."""
    engine = connected(context, session_id)
    chat = normalise_jid(chat, "chatId")
    with context.store.session() as db:
        ids = chat_ids(db, session_id, chat)
        unread = select(Message.message_id, Message.sender).where(
            Message.session_id == session_id, Message.chat_id.in_(ids), Message.direction == "in")
        unread = unread.where(Message.message_id.in_(message_ids)) if message_ids else unread.where(UNREAD)
        found = db.execute(unread).all()
    by_sender: dict[str | None, list[str]] = {}
    for message_id, sender in found:
        by_sender.setdefault(sender if chat.endswith("@g.us") else None, []).append(message_id)
    unknown = [message_id for message_id in message_ids or [] if message_id not in {row[0] for row in found}]
    if unknown:
        by_sender.setdefault(None, []).extend(unknown)  # not in history: read receipts in the chat anyway
    for sender, read in by_sender.items():
        whatsapp(engine.mark_read, chat, read, sender)
    marked = [message_id for read in by_sender.values() for message_id in read]
    record_read(context, session_id, ids, marked)
    return {"chatId": chat, "messageIds": marked}


def whatsapp(call, *args) -> None:
    """An immediate call to WhatsApp: 409 when the session went offline, 503 when WhatsApp failed it."""
    try:
        call(*args)
    except EngineError as exc:
        raise Unavailable(f"WhatsApp did not take it: {exc}", code="whatsapp_error") from exc


def record_read(context: HubContext, session_id: str, chats: list[str], message_ids: list[str]) -> None:
    """The read messages no longer count as unread."""
    if not message_ids:
        return

    def write(db):
        db.execute(update(Message).where(Message.session_id == session_id, Message.chat_id.in_(chats),
                                         Message.direction == "in", Message.message_id.in_(message_ids))
                   .values(status=MessageStatus.READ))
    context.store.writes.run(write)


@on_holder
def set_presence(context: HubContext, session_id: str, chat: str, state: str) -> dict:
    """Show typing / recording / paused in the chat now (not queued: it means nothing later)."""
    engine = connected(context, session_id)
    chat = normalise_jid(chat, "chatId")
    whatsapp(engine.send_presence, chat, state)
    return {"chatId": chat, "state": state}
