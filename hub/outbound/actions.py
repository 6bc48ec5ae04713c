"""Message actions through the durable send queue: react to, edit or revoke a message (README.md, "Message actions").

An action is an outbound row like a send (same queue, order, Idempotency-Key, 200/202 answers,
message-sent / message-failed events) whose `to` is the target's chat and whose target columns
name the message. The rules are checked here, before anything is stored: a reaction is one emoji
(or "" to remove it); only the session's own messages are edited (within whatsmeow's EditWindow)
or revoked (a group admin may also revoke other participants' messages in that group).
"""
from __future__ import annotations

from datetime import timedelta

import emoji as emoji_data

from hub.context import HubContext
from hub.errors import BadRequest, Conflict, HubError, NotFound
from hub.outbound.request import SendRequest, Target, ValidatedSend
from hub.outbound.validation import resolve_session
from hub.sessions import groups
from hub.sessions.jids import normalise_jid
from hub.store import actions as history
from hub.store.messages import Message
from hub.store.models import clean_text, utcnow

EDIT_WINDOW = timedelta(minutes=20)  # whatsmeow send.go EditWindow: WhatsApp refuses later edits
EDITABLE_TYPES = ("text",)


def validate(context: HubContext, request: SendRequest) -> ValidatedSend:
    """An action's target and content, checked; 4xx before anything is queued."""
    action = request.action
    session_id = resolve_session(context, request.session_id)
    with context.store.session() as db:
        message = history.target(db, session_id, action.message_id)
        if message is not None:
            db.expunge(message)
    if action.kind == "reaction":
        return reaction(session_id, request, message)
    if action.kind == "revoke" and message is not None and message.direction == "in" and \
            is_group_admin(context, session_id, message.chat_id):  # admins delete others' messages in groups
        return ValidatedSend(session_id, message.chat_id, None, None,
                             target=Target("revoke", message.message_id, message.sender))
    own = own_message(message, action.message_id, action.kind)
    if action.kind == "edit":
        return edit(session_id, request, own)
    return ValidatedSend(session_id, own.chat_id, None, None, target=Target("revoke", own.message_id))


def is_group_admin(context: HubContext, session_id: str, chat: str) -> bool:
    """Whether the session is an admin of group `chat` (goneonize GetGroupInfo; False offline or on error)."""
    session = context.sessions.peek(session_id)
    if not chat.endswith("@g.us") or not session.get("jid") or context.sessions.connected_engine(session_id) is None:
        return False
    try:
        info = groups.group_info(context.sessions, session_id, chat)
    except HubError:
        return False
    me = session["jid"].split("@")[0].split(":")[0]
    return any(row["isAdmin"] and row["jid"].split("@")[0] == me for row in info["participants"])


def reaction(session_id: str, request: SendRequest, message: Message | None) -> ValidatedSend:
    """A reaction: one emoji, or "" to remove the session's reaction; to a known message or in `chatId`."""
    text = request.text or ""
    if text and not emoji_data.is_emoji(text):
        raise BadRequest("emoji must be exactly one emoji (or \"\" to remove the reaction).", code="invalid_reaction")
    if message is None and not request.action.chat_id:
        raise NotFound(f"Message '{request.action.message_id}' is not in this session's history; give chatId "
                       f"to react to it anyway.", code="message_not_found")
    if message is None:  # unknown to the history: taken as the other party's message in that chat
        chat = normalise_jid(request.action.chat_id, "chatId")
        return ValidatedSend(session_id, chat, text, None, target=Target("reaction", request.action.message_id, chat))
    sender = None if message.direction == "out" else message.sender
    return ValidatedSend(session_id, message.chat_id, text, None, target=Target("reaction", message.message_id, sender))


def own_message(message: Message | None, message_id: str, kind: str) -> Message:
    """The session's own message `message_id` (404 unknown, 409 someone else's, 409 already revoked)."""
    if message is None:
        raise NotFound(f"Message '{message_id}' is not in this session's history.", code="message_not_found")
    if message.direction != "out":
        done = "edited" if kind == "edit" else "revoked"
        raise Conflict(f"Message '{message_id}' was not sent by this session: only its own messages can be {done}.",
                       code="not_own_message")
    if message.revoked_at is not None:
        raise Conflict(f"Message '{message_id}' was already revoked.", code="message_revoked")
    return message


def edit(session_id: str, request: SendRequest, message: Message) -> ValidatedSend:
    """An edit of the session's own text message, within WhatsApp's edit window."""
    text = clean_text(request.text or "")
    if not text.strip():
        raise BadRequest("text is required: the message's new text.", code="empty_message")
    if message.type not in EDITABLE_TYPES:
        raise Conflict(f"Only text messages can be edited; '{message.message_id}' is {message.type}.",
                       code="not_editable")
    if window_passed(message):
        raise Conflict(f"Message '{message.message_id}' was sent more than {EDIT_WINDOW.seconds // 60} minutes ago; "
                       f"WhatsApp no longer accepts edits of it.", code="edit_window_passed")
    return ValidatedSend(session_id, message.chat_id, text, None, target=Target("edit", message.message_id))


def window_passed(message: Message) -> bool:
    """Whether WhatsApp's edit window for the message has closed."""
    return utcnow() - message.timestamp > EDIT_WINDOW


def late_edit(context: HubContext, session_id: str, message_id: str | None) -> str | None:
    """Why a queued edit can no longer be sent (its window closed while it waited), or None."""
    with context.store.session() as db:
        message = history.target(db, session_id, message_id)
        if message is not None and window_passed(message):
            return f"edit_window_passed: the edit window ({EDIT_WINDOW.seconds // 60} min) closed while it was queued"
    return None
