"""The simulated WhatsApp's phone side, history: the phone sends the session a history sync (sandbox only)."""
from __future__ import annotations

import time

from pydantic import Field

from hub.api.common import Model, SessionPath, blueprint, ok
from hub.api.responses import answers, ok_model
from hub.api.sandbox import PHONE_ERRORS, phone_of
from hub.errors import BadRequest
from hub.rules import MESSAGE_ID_PATTERN
from hub.sandbox.history import HistoryMessage
from hub.sessions.jids import normalise_jid

bp = blueprint("sandbox-history", "Simulated WhatsApp for sandbox sessions: the phone sends its history")
HistorySent = ok_model("HistorySent", messageIds=list[str], chunks=int)


class HistoryItem(Model):
    chat: str = Field(description="The chat: a phone number or JID (a group's …@g.us)", examples=["51987654321"])
    text: str = Field(min_length=1, max_length=65536)
    from_me: bool = Field(False, alias="fromMe", description="Written by the session's own phone")
    sender: str | None = Field(None, alias="from", description="In a group: the participant who wrote it")
    timestamp: int | None = Field(None, ge=0, le=2**33, description="Unix seconds (default: a minute apart, up to now)")
    push_name: str = Field("", alias="pushName", max_length=128)
    message_id: str | None = Field(None, alias="messageId", pattern=MESSAGE_ID_PATTERN)


class HistoryBody(Model):
    messages: list[HistoryItem] = Field(min_length=1, max_length=100_000)


@bp.post("/sandbox/<session_id>/history", responses=answers(HistorySent, *PHONE_ERRORS))
def send_history(path: SessionPath, body: HistoryBody):
    """The phone sends a history sync (whatsmeow HistorySync chunks); kept only when the session's link kept it."""
    phone = phone_of(path.session_id)
    messages = [history_message(item, len(body.messages) - index) for index, item in enumerate(body.messages)]
    chunks = phone.send_history(path.session_id, messages)
    return ok(messageIds=[message.message_id for message in messages], chunks=chunks)


def history_message(item: HistoryItem, minutes_ago: int) -> HistoryMessage:
    """One message as the phone keeps it (a group message needs its participant)."""
    chat = normalise_jid(item.chat, "chat")
    if chat.endswith("@g.us") and not item.from_me and not item.sender:
        raise BadRequest("A group message needs `from`: the participant who wrote it.", code="sender_required")
    stamp = item.timestamp if item.timestamp is not None else int(time.time()) - 60 * minutes_ago
    message = HistoryMessage(chat=chat, text=item.text, from_me=item.from_me, push_name=item.push_name,
                             sender=normalise_jid(item.sender, "from") if item.sender else None, timestamp=stamp)
    if item.message_id:
        message.message_id = item.message_id
    return message
