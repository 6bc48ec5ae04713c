"""Chats from the history, one chat's messages, and the immediate chat actions (read receipts, presence)."""
from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from hub.api.common import RECIPIENT_SCHEMA, Model, Page, blueprint, hub, ok
from hub.api.responses import answers, ok_model
from hub.outbound import chats
from hub.rules import MESSAGE_ID_PATTERN, SESSION_ID_PATTERN

ChatList = ok_model("ChatList", chats=list[dict[str, Any]], total=int, limit=int, offset=int)
ChatMessages = ok_model("ChatMessages", chatId=str, messages=list[dict[str, Any]], limit=int)
MarkedRead = ok_model("MarkedRead", chatId=str, messageIds=list[str])
PresenceSent = ok_model("PresenceSent", chatId=str, state=str)
bp = blueprint("chats", "Chats: list, messages, mark read, typing (immediate: need a connected session)")


class ChatPath(Model):
    session_id: str = Field(pattern=SESSION_ID_PATTERN, description="Session id")
    chat_id: str = Field(max_length=160, description="Phone number or JID of the chat (…@s.whatsapp.net, …@g.us)",
                         json_schema_extra=RECIPIENT_SCHEMA)


class ChatSessionPath(Model):
    session_id: str = Field(pattern=SESSION_ID_PATTERN, description="Session id")


class ChatMessagesQuery(Model):
    model_config = ConfigDict(extra="ignore", strict=False)  # query strings are text: "20" is a limit

    limit: int = Field(50, ge=1, le=500)
    before: str | None = Field(None, pattern=MESSAGE_ID_PATTERN, description="Only messages older than this one")
    after: str | None = Field(None, pattern=MESSAGE_ID_PATTERN, description="Only messages newer than this one")


class ReadBody(Model):
    model_config = ConfigDict(openapi_extra={"examples": {
        "chat": {"summary": "Every unread message of the chat", "value": {}},
        "messages": {"summary": "Given messages", "value": {"messageIds": ["3EB0C767D26A1D8E5A8B"]}}}})

    message_ids: list[str] | None = Field(None, alias="messageIds", min_length=1, max_length=500,
                                          description="Default: every unread message of the chat")


class PresenceBody(Model):
    model_config = ConfigDict(openapi_extra={"examples": {
        "typing": {"summary": "Typing…", "value": {"state": "typing"}},
        "paused": {"summary": "Stopped typing", "value": {"state": "paused"}}}})

    state: str = Field(pattern="^(typing|recording|paused)$", description="typing, recording or paused")


@bp.get("/sessions/<session_id>/chats", responses=answers(ChatList, 404))
def list_chats(path: ChatSessionPath, query: Page):
    """The session's chats, most recent first: chatId, name, lastMessage, unreadCount (paged)."""
    return ok(**chats.list_chats(hub(), path.session_id, query.limit, query.offset))


@bp.get("/sessions/<session_id>/chats/<chat_id>/messages", responses=answers(ChatMessages, 404))
def chat_messages(path: ChatPath, query: ChatMessagesQuery):
    """One chat's messages, newest first; `before` / `after` a message id for the next page."""
    return ok(**chats.chat_messages(hub(), path.session_id, path.chat_id, query.limit, query.before, query.after))


@bp.post("/sessions/<session_id>/chats/<chat_id>/read", responses=answers(MarkedRead, 404, 409, 503))
def mark_read(path: ChatPath, body: ReadBody):
    """Send read receipts for the chat's unread messages (or `messageIds`); 409 when not connected."""
    return ok(**chats.mark_read(hub(), path.session_id, path.chat_id, body.message_ids))


@bp.post("/sessions/<session_id>/chats/<chat_id>/presence", responses=answers(PresenceSent, 404, 409, 503))
def presence(path: ChatPath, body: PresenceBody):
    """Show typing, recording or paused in the chat now; 409 when not connected."""
    return ok(**chats.set_presence(hub(), path.session_id, path.chat_id, body.state))
