"""POST /api/whatsapp/send (text, media, documents; durable queue) and the state of a send."""
from __future__ import annotations

from typing import Any

from flask import request
from pydantic import Field

from hub.api.common import Model, blueprint, hub
from hub.api.responses import answers, ok_model
from hub.outbound import reads, service
from hub.outbound.request import MediaSpec, SendRequest
from hub.rules import MIMETYPE_MAX_LENGTH, MIMETYPE_PATTERN, SESSION_ID_PATTERN

bp = blueprint("send", "Sending messages (sent now when connected, else queued durably)")
# 200 sent now, 202 queued (not connected, or async); 404 unknown session; 409 a send that cannot be made.
SENT = answers({200: ok_model("Sent", id=str, messageId=str, status=str),
                202: ok_model("Queued", id=str, status=str)}, 404, 409)
OutboundAnswer = ok_model("OutboundAnswer", outbound=dict[str, Any])

MAX_TEXT = 65536


class MediaBody(Model):
    url: str | None = Field(None, max_length=4096, description="http(s) URL the hub downloads")
    base64: str | None = Field(None, description="File content, base64")
    data_url: str | None = Field(None, alias="dataUrl", description="data:<mimetype>;base64,<content>")
    filename: str | None = Field(None, max_length=255, description="Name the recipient sees (documents)")
    mimetype: str | None = Field(None, pattern=MIMETYPE_PATTERN, max_length=MIMETYPE_MAX_LENGTH,
                                 description="Default: from the data URL, the download, or the file name")
    caption: str | None = Field(None, max_length=MAX_TEXT)
    voice: bool = Field(False, description="Send audio as a voice note (converted to ogg/opus when needed)")
    sticker: bool = Field(False, description="Send an image as a sticker (converted to webp); image/webp is one")

    def spec(self) -> MediaSpec:
        return MediaSpec(**self.model_dump())


class SendBody(Model):
    session_id: str | None = Field(None, alias="sessionId", pattern=SESSION_ID_PATTERN,
                                   description="Optional when the hub has exactly one session")
    to: str | int = Field(description="Phone number with country code (+, spaces, dashes allowed) or a JID")
    message: str | None = Field(None, max_length=MAX_TEXT, description="Text (the caption when media is given)")
    media: MediaBody | None = None
    queue_only: bool = Field(False, alias="async", description="Queue even when connected (answer 202 at once)")

    def request(self, idempotency_key: str | None) -> SendRequest:
        return SendRequest(to=str(self.to), text=self.message, media=self.media.spec() if self.media else None,
                           session_id=self.session_id, queue_only=self.queue_only,
                           idempotency_key=idempotency_key)


# Read from the request directly: a header model would be re-validated through its JSON schema on
# every request (about 0.5 ms, a third of a queued send); documented here instead.
IDEMPOTENCY_HEADER = {"parameters": [{
    "name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string", "maxLength": 255},
    "description": "A retry with the same key returns the first result and never sends twice"}]}


class OutboundPath(Model):
    outbound_id: str = Field(pattern=r"^out_[0-9A-Z]{26}$", description="The id a send answered with")


@bp.post("/whatsapp/send", openapi_extensions=IDEMPOTENCY_HEADER, responses=SENT)
def send(body: SendBody):
    """Send text and/or media: 200 with the WhatsApp message id when sent, 202 when queued."""
    return service.accept(hub(), body.request(request.headers.get("Idempotency-Key")))


@bp.get("/whatsapp/send/<outbound_id>", responses=answers(OutboundAnswer, 404))
def send_state(path: OutboundPath):
    """The state of an accepted send (queued, sending, sent, failed)."""
    return {"success": True, "outbound": reads.get(hub(), path.outbound_id)}


@bp.get("/outbound/<outbound_id>", responses=answers(OutboundAnswer, 404))
def outbound_state(path: OutboundPath):
    """Same as GET /api/whatsapp/send/<id>."""
    return send_state(path)
