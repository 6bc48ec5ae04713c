"""The route shapes of the systems this hub replaces, each a thin adapter over the same services.

Sending routes answer like POST /api/whatsapp/send (200 sent / 202 queued, `{success, id,
messageId?, status}`), except /api/send-pdf, which always queues and answers 202 `{success,
message, id, status}` as its clients expect. Session routes answer `{success, sessionId, status,
state, connected, ...}` where `state` is the whatsapp-web.js-style word (CONNECTED, UNPAIRED,
OPENING, DISCONNECTED, UNLAUNCHED) older clients test for.
GET /api/sessions and GET /api/messages/<id> are the native routes (same shapes).
"""
from __future__ import annotations

from typing import Any

import segno
from pydantic import AliasChoices, ConfigDict, Field

from hub.api.common import RECIPIENT_SCHEMA, START_SETTLE, Model, Recipient, SessionPath, blueprint, hub, ok
from hub.api.responses import answers, ok_model
from hub.api.send import MAX_TEXT, SENT, TEXT_GIVEN, MediaBody
from hub.delivery import endpoints
from hub.errors import Conflict
from hub.outbound import service
from hub.outbound.request import MediaSpec, SendRequest
from hub.rules import ENGINE_PATTERN, MIMETYPE_MAX_LENGTH, MIMETYPE_PATTERN, SESSION_ID_PATTERN
from hub.store.models import SessionStatus

bp = blueprint("compat", "Route shapes of the older systems (adapters over the same services)")
SessionState = ok_model("SessionState", sessionId=str, clientId=str, status=str, state=str, connected=bool,
                        phone=str | None)

STATES = {SessionStatus.CONNECTED: "CONNECTED", SessionStatus.QR: "UNPAIRED", SessionStatus.LOGGED_OUT: "UNPAIRED",
          SessionStatus.STARTING: "OPENING", SessionStatus.DISCONNECTED: "DISCONNECTED",
          SessionStatus.STOPPED: "UNLAUNCHED", "no_sessions": "UNLAUNCHED"}
RecipientField = Field(validation_alias=AliasChoices("to", "number"), description="Phone number or JID",
                       json_schema_extra=RECIPIENT_SCHEMA)
Text = Field(None, max_length=MAX_TEXT, validation_alias=AliasChoices("message", "text", "caption"))


class SendText(Model):
    model_config = ConfigDict(json_schema_extra=TEXT_GIVEN)

    to: Recipient = RecipientField
    message: str | None = Text


class SendDocument(SendText):
    model_config = ConfigDict(json_schema_extra=None)  # the document is the content

    document_data: str = Field(alias="documentData", description="data URL or base64")
    filename: str | None = Field(None, max_length=255, validation_alias=AliasChoices("filename", "fileName"))
    mimetype: str | None = Field(None, pattern=MIMETYPE_PATTERN, max_length=MIMETYPE_MAX_LENGTH)


class SendPdf(Model):
    session_id: str = Field(alias="sessionId", pattern=SESSION_ID_PATTERN)
    to: Recipient = RecipientField
    pdf_base64: str = Field(alias="pdfBase64")
    file_name: str = Field("Comprobante.pdf", alias="fileName", max_length=255)
    message: str | None = Text


class SendMessage(SendText):
    session_id: str | None = Field(None, alias="sessionId", pattern=SESSION_ID_PATTERN)


class SendMedia(SendMessage):
    model_config = ConfigDict(json_schema_extra=None)  # the media is the content

    media: MediaBody | str | None = Field(None, description="{url|base64|dataUrl, ...} or a URL / data URL")
    media_url: str | None = Field(None, max_length=4096, validation_alias=AliasChoices("mediaUrl", "url"))
    base64: str | None = None
    mimetype: str | None = Field(None, pattern=MIMETYPE_PATTERN, max_length=MIMETYPE_MAX_LENGTH)
    filename: str | None = Field(None, max_length=255, validation_alias=AliasChoices("filename", "fileName"))

    def spec(self) -> MediaSpec:
        """One MediaSpec from whichever of the accepted shapes the client used."""
        if isinstance(self.media, MediaBody):
            return self.media.spec()
        given = self.media or self.media_url or self.base64 or ""
        is_url = given.startswith(("http://", "https://")) or (given and given == self.media_url)
        return MediaSpec(url=given if is_url else None, base64=None if is_url else given or None,
                         filename=self.filename, mimetype=self.mimetype)


class StartSession(Model):
    session_id: str = Field(alias="sessionId", pattern=SESSION_ID_PATTERN)
    engine: str | None = Field(None, pattern=ENGINE_PATTERN)


def send_request(body: SendText, session_id: str | None, media: MediaSpec | None = None, **extra) -> SendRequest:
    return SendRequest(to=str(body.to), text=body.message, media=media, session_id=session_id, **extra)


@bp.post("/send/<session_id>", responses=SENT)
def send_text(path: SessionPath, body: SendText):
    """Seed shape: {to, message}."""
    return service.accept(hub(), send_request(body, path.session_id))


@bp.post("/send-document/<session_id>", responses=SENT)
def send_document(path: SessionPath, body: SendDocument):
    """Seed shape: {to, documentData (data URL or base64), filename, message}."""
    media = MediaSpec(base64=body.document_data, filename=body.filename, mimetype=body.mimetype)
    return service.accept(hub(), send_request(body, path.session_id, media))


@bp.post("/send-pdf", responses=answers({202: ok_model("PdfQueued", id=str, status=str, message=str)}, 404, 409))
def send_pdf(body: SendPdf):
    """Seed shape: {sessionId, to, pdfBase64, fileName}; always queued, 202 {success, message}."""
    media = MediaSpec(base64=body.pdf_base64, filename=body.file_name, mimetype="application/pdf")
    answer, _ = service.accept(hub(), send_request(body, body.session_id, media, queue_only=True))
    return {**answer, "message": f"PDF {body.file_name} accepted for sending"}, 202


@bp.post("/send-message", responses=SENT)
def send_message(body: SendMessage):
    """Seed shape: {sessionId, to|number, message|text}."""
    return service.accept(hub(), send_request(body, body.session_id))


@bp.post("/send-media", responses=SENT)
def send_media(body: SendMedia):
    """Seed shape: {sessionId, to, media (object, URL or data URL) | mediaUrl | base64, caption}."""
    return service.accept(hub(), send_request(body, body.session_id, body.spec()))


@bp.post("/start-session", responses=answers(SessionState, 404, 409))
def start_session(body: StartSession):
    """Seed shape: {sessionId}; creates the session if needed and starts it."""
    return session_state(start(body.session_id, body.engine))


@bp.get("/connect/<session_id>", responses=answers(SessionState, 404, 409))
def connect(path: SessionPath):
    """Seed shape: create if needed and start (a QR follows at /api/qr/<id>)."""
    return session_state(start(path.session_id))


@bp.get("/qr/<session_id>", responses=answers(SessionState, 404, 503))
def qr(path: SessionPath):
    """The QR as text and as a PNG data URL; `qr: null` with the status when there is none to scan."""
    view = hub().sessions.get(path.session_id)
    try:
        code = hub().sessions.qr(path.session_id)
    except Conflict:
        return session_state(view, qr=None, message=f"No QR code to scan (status: {view['status']}).")
    return session_state(view, qr=code["qr"], qrImage=segno.make(code["qr"], error="m").png_data_uri(scale=6),
                         expiresAt=code["expiresAt"])


@bp.delete("/delete/<session_id>", responses=answers(ok_model("SessionRemoved", sessionId=str, message=str), 404))
def delete(path: SessionPath):
    """Stop the session and delete it with its credentials."""
    hub().sessions.delete(path.session_id)
    return ok(sessionId=path.session_id, message=f"Session {path.session_id} deleted")


@bp.get("/whatsapp/status", responses=answers(ok_model(
    "WhatsappStatus", connected=bool, state=str, status=str, listeners=int, sessions=list[dict[str, Any]])))
def whatsapp_status():
    """Overall connection state (`state` in capitals, as the shared-client callers compare it), listeners, sessions."""
    overview = endpoints.whatsapp_status(hub())
    return ok(**{**overview, "state": state_word(overview["state"]), "status": overview["state"]})


@bp.get("/status/<session_id>", responses=answers(SessionState, 404))
def status(path: SessionPath):
    """Connection state; a linked session that is down starts reconnecting."""
    return status_view(path.session_id)


def start(session_id: str, engine: str | None = None) -> dict:
    """Create the session when it does not exist, then start it; its view."""
    sessions = hub().sessions
    if not sessions.exists(session_id):
        sessions.create(session_id, engine=engine)
    return sessions.start(session_id, settle=START_SETTLE)


def unknown_session(session_id: str) -> dict:
    """The session-persistence clients poll ids that may not exist yet: 200 `connected: false`, not 404."""
    return ok(sessionId=session_id, clientId=session_id, exists=False, status="not_found", state=STATES["stopped"],
              connected=False, phone=None, session_exists_on_disk=False, auto_reconnecting=False,
              message=f"Session '{session_id}' does not exist.")


def state_word(status: str) -> str:
    """The whatsapp-web.js-style word for a session status (CONNECTED, UNPAIRED, ...)."""
    return STATES.get(status, status.upper())


def session_state(view: dict, **extra) -> dict:
    """The compat session answer: native view fields plus whatsapp-web.js-style state words."""
    return ok(sessionId=view["sessionId"], clientId=view["sessionId"], status=view["status"],
              state=state_word(view["status"]), connected=view["connected"],
              phone=view["phone"], **extra)


def status_view(session_id: str) -> dict:
    """GET /api/status: reconnects a session whose credentials are on disk but which is not running."""
    sessions = hub().sessions
    if not sessions.exists(session_id):
        return unknown_session(session_id)
    view = sessions.get(session_id)
    on_disk = sessions.has_credentials(session_id, view["engine"])
    running = sessions.is_running(session_id)
    if on_disk and not running:
        view = sessions.start(session_id, settle=START_SETTLE)
    reconnecting = (on_disk and not running) or (running and view["status"] == SessionStatus.DISCONNECTED)
    return session_state(view, session_exists_on_disk=on_disk, auto_reconnecting=reconnecting,
                         lastError=view["lastError"], reconnect=view["reconnect"])
