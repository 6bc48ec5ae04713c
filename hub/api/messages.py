"""GET /api/messages/<sessionId>: inbound and outbound history (also the seeds' route shape)."""
from __future__ import annotations

from typing import Any

from pydantic import Field

from hub.api.common import Page, SessionPath, blueprint, hub, ok
from hub.api.responses import answers, ok_model
from hub.outbound import history
from hub.rules import OPTIONAL_RECIPIENT_PATTERN

bp = blueprint("messages", "Message history")
MessageList = ok_model("MessageList", messages=list[dict[str, Any]], limit=int, offset=int)


class MessagesQuery(Page):
    chat_id: str | None = Field(None, alias="chatId", description="Only this chat (phone number or JID)",
                                  json_schema_extra={"pattern": OPTIONAL_RECIPIENT_PATTERN})


@bp.get("/messages/<session_id>", responses=answers(MessageList, 404))
def list_messages(path: SessionPath, query: MessagesQuery):
    """Received and sent messages, newest first, paginated, optionally of one chat."""
    return ok(**history.list_messages(hub(), path.session_id, query.chat_id, query.limit, query.offset))
