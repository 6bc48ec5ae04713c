"""POST /api/whatsapp/send (text, media, replies, mentions, locations, contacts, polls; durable queue)."""
from __future__ import annotations

from typing import Any

from flask import request
from pydantic import ConfigDict, Field

from hub.api.common import RECIPIENT_SCHEMA, URL_SCHEMA, Model, Recipient, blueprint, hub
from hub.api.responses import answers, ok_model
from hub.outbound import reads, service
from hub.outbound.request import MediaSpec, SendRequest
from hub.rules import MIMETYPE_MAX_LENGTH, MIMETYPE_PATTERN, NON_BLANK_PATTERN, SESSION_ID_PATTERN

bp = blueprint("send", "Sending messages (sent now when connected, else queued durably)")
# 200 sent now, 202 queued (not connected, or async); 404 unknown session; 409 a send that cannot be made.
SENT = answers({200: ok_model("Sent", id=str, messageId=str, status=str),
                202: ok_model("Queued", id=str, status=str)}, 404, 409)
OutboundAnswer = ok_model("OutboundAnswer", outbound=dict[str, Any])

MAX_TEXT = 65536
STANDALONE = ("media", "location", "contact", "poll")  # what a message can be without text


def content_given(text: str, text_pattern: str, *objects: str) -> dict:
    """JSON Schema of the rule behind 400 empty_message: this text (matching the pattern) or one of the objects."""
    return {"anyOf": [{"required": [text], "properties": {text: {"type": "string", "pattern": text_pattern}}},
                      *({"required": [name], "properties": {name: {"type": "object"}}} for name in objects)]}


# A body whose only content is its text: `message` must be more than spaces.
TEXT_GIVEN = content_given("message", NON_BLANK_PATTERN)


class MediaBody(Model):
    url: str | None = Field(None, max_length=4096, description="http(s) URL the hub downloads",
                            json_schema_extra=URL_SCHEMA)
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


class LocationBody(Model):
    latitude: float = Field(description="Degrees, -90 to 90")
    longitude: float = Field(description="Degrees, -180 to 180")
    name: str | None = Field(None, max_length=1024)
    address: str | None = Field(None, max_length=1024)


class ContactBody(Model):
    name: str | None = Field(None, max_length=256, description="Shown on the card (from the vCard's FN when "
                             "only a vcard is given)")
    phone: str | None = Field(None, max_length=32, description="With country code")
    vcard: str | None = Field(None, max_length=65536, description="A complete vCard instead of name + phone")


class PollBody(Model):
    question: str = Field(max_length=1024)
    options: list[str] = Field(max_length=64, description="2 to 12 different options")
    multiple: bool = Field(False, description="Voters may pick several options (selectableCount 0)")
    selectable_count: int | None = Field(None, alias="selectableCount", ge=0, le=64,
                                         description="How many options a voter may pick (0 = any number)")


class LinkPreviewBody(Model):
    url: str | None = Field(None, max_length=4096, description="The link in the text (default: its first link)")
    title: str | None = Field(None, max_length=1024)
    description: str | None = Field(None, max_length=1024)


TO = {"sessionId": "tienda_lima", "to": "+51 987 654 321"}
# One request body example per kind (Swagger UI offers them in a list; README.md "Sending" has the same as curl).
SEND_EXAMPLES = {name: {"summary": summary, "value": {**TO, **value}} for name, summary, value in (
    ("text", "Text", {"message": "Su pedido está listo"}),
    ("reply", "A reply quoting a message, with a mention", {
        "message": "Sí, @51911222333 lo lleva hoy", "replyTo": "3EB0C767D26A1D8E5A8B", "mentions": ["51911222333"]}),
    ("linkPreview", "A link with its preview (true: the hub fetches the page)", {
        "message": "Nuestra oferta: https://tienda.example/oferta", "linkPreview": True}),
    ("image", "An image with its caption", {"message": "Así quedó", "media": {"url": "https://tienda.example/foto.jpg"}}),
    ("document", "A document", {"media": {"url": "https://tienda.example/F001-881.pdf", "filename": "F001-881.pdf",
                                          "caption": "Su factura"}}),
    ("voice", "A voice note (converted to ogg/opus)", {"media": {"url": "https://tienda.example/saludo.mp3",
                                                                 "voice": True}}),
    ("sticker", "A sticker (converted to webp)", {"media": {"url": "https://tienda.example/gracias.png",
                                                            "sticker": True}}),
    ("location", "A location", {"location": {"latitude": -12.1211, "longitude": -77.0297, "name": "Tienda Lima",
                                             "address": "Av. Larco 345, Miraflores"}}),
    ("contact", "A contact card", {"contact": {"name": "Soporte Tienda", "phone": "+51 999 888 777"}}),
    ("poll", "A poll", {"poll": {"question": "¿Qué horario prefiere?", "options": ["Mañana", "Tarde", "Noche"]}}),
)}


class SendBody(Model):
    # text, media, a location, a contact or a poll (else 400 empty_message)
    model_config = ConfigDict(openapi_extra={"examples": SEND_EXAMPLES},
                              json_schema_extra=content_given("message", NON_BLANK_PATTERN, *STANDALONE))

    session_id: str | None = Field(None, alias="sessionId", pattern=SESSION_ID_PATTERN,
                                   description="Optional when the hub has exactly one session")
    to: Recipient = Field(description="Phone number with country code (+, spaces, dashes allowed) or a JID",
                          json_schema_extra=RECIPIENT_SCHEMA)
    message: str | None = Field(None, max_length=MAX_TEXT, description="Text (the caption when media is given)")
    media: MediaBody | None = None
    queue_only: bool = Field(False, alias="async", description="Queue even when connected (answer 202 at once)")
    reply_to: str | None = Field(None, alias="replyTo", max_length=128,
                                 description="Id of a message to quote (its sender and text come from the history; "
                                             "an id the hub does not know is quoted by id alone)")
    mentions: list[str | int] | None = Field(None, max_length=1024,
                                             description="Numbers or JIDs to @-mention; write @<number> in the text "
                                                         "where the mention should show")
    link_preview: bool | LinkPreviewBody | None = Field(
        None, alias="linkPreview", description="true: the hub fetches the text's first link for a title and "
        "description; an object: the preview as given")
    location: LocationBody | None = None
    contact: ContactBody | None = None
    poll: PollBody | None = None
    force: bool = Field(False, description="Send even to a number a contact check found not on WhatsApp")

    def request(self, idempotency_key: str | None) -> SendRequest:
        return SendRequest(to=str(self.to), text=self.message, media=self.media.spec() if self.media else None,
                           session_id=self.session_id, queue_only=self.queue_only,
                           idempotency_key=idempotency_key, reply_to=self.reply_to,
                           mentions=self.mentions, link_preview=plain_json(self.link_preview),
                           location=plain_json(self.location), contact=plain_json(self.contact),
                           poll=plain_json(self.poll), force=self.force)


def plain_json(value):
    """A nested body as the plain JSON the outbound row keeps (by its wire names)."""
    return value.model_dump(by_alias=True, exclude_none=True) if isinstance(value, Model) else value


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
