"""Message actions (queued like sends): react to, edit and revoke a message of a session."""
from __future__ import annotations

from flask import request
from pydantic import ConfigDict, Field

from hub.api.common import Model, blueprint, hub
from hub.api.responses import answers, ok_model
from hub.api.send import IDEMPOTENCY_HEADER, MAX_TEXT
from hub.outbound import actions, service
from hub.outbound.request import ActionSpec, SendRequest
from hub.rules import MESSAGE_ID_PATTERN, SESSION_ID_PATTERN

# As a send's (hub/api/send.py): 200 sent, 202 queued; 404 unknown session or message, 409 not allowed now.
QUEUED_ACTION = answers({200: ok_model("ActionSent", id=str, messageId=str, status=str),
                         202: ok_model("ActionQueued", id=str, status=str)}, 404, 409)
bp = blueprint("actions", "Message actions: reactions, edits, revokes (through the durable send queue)")


class MessagePath(Model):
    session_id: str = Field(pattern=SESSION_ID_PATTERN, description="Session id")
    message_id: str = Field(pattern=MESSAGE_ID_PATTERN, description="WhatsApp message id (messageId)")

    def request(self, kind: str, text: str | None = None, chat_id: str | None = None,
                queue_only: bool = False) -> SendRequest:
        """The queued send that carries this action."""
        return SendRequest(to="", text=text, session_id=self.session_id, queue_only=queue_only,
                           idempotency_key=request.headers.get("Idempotency-Key"),
                           action=ActionSpec(kind, self.message_id, chat_id))


class ReactionBody(Model):
    model_config = ConfigDict(openapi_extra={"examples": {
        "react": {"summary": "React", "value": {"emoji": "👍"}},
        "remove": {"summary": "Remove the session's reaction", "value": {"emoji": ""}},
        "byChat": {"summary": "A message not in the history", "value": {
            "emoji": "❤️", "chatId": "51987654321@s.whatsapp.net"}}}})

    emoji: str = Field(max_length=64, description='One emoji; "" removes the session\'s reaction')
    chat_id: str | None = Field(None, alias="chatId", description="The chat, for a message not in the history")
    queue_only: bool = Field(False, alias="async", description="Queue even when connected (answer 202 at once)")


class EditBody(Model):
    model_config = ConfigDict(openapi_extra={"example": {"text": "Su pedido sale mañana a las 9:00"}})

    text: str = Field(max_length=MAX_TEXT, description="The message's new text")
    queue_only: bool = Field(False, alias="async", description="Queue even when connected (answer 202 at once)")


@bp.post("/sessions/<session_id>/messages/<message_id>/reaction", openapi_extensions=IDEMPOTENCY_HEADER,
         responses=QUEUED_ACTION)
def react(path: MessagePath, body: ReactionBody):
    """React to a message (200 when sent, 202 when queued); "" removes the reaction."""
    return service.accept(hub(), path.request("reaction", body.emoji, body.chat_id, body.queue_only), actions.validate)


@bp.post("/sessions/<session_id>/messages/<message_id>/edit", openapi_extensions=IDEMPOTENCY_HEADER,
         responses=QUEUED_ACTION)
def edit(path: MessagePath, body: EditBody):
    """Edit one of the session's own text messages within WhatsApp's 20-minute window (else 409)."""
    return service.accept(hub(), path.request("edit", body.text, queue_only=body.queue_only), actions.validate)


@bp.delete("/sessions/<session_id>/messages/<message_id>", openapi_extensions=IDEMPOTENCY_HEADER,
         responses=QUEUED_ACTION)
def revoke(path: MessagePath):
    """Delete one of the session's own messages for everyone (200 when sent, 202 when queued)."""
    return service.accept(hub(), path.request("revoke"), actions.validate)
