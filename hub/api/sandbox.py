"""The sandbox phone: scan the QR, receive a message, be logged out remotely (sandbox sessions only)."""
from __future__ import annotations

from pydantic import Field

from hub.api.common import Model, SessionPath, blueprint, ok
from hub.app import hub
from hub.errors import BadRequest, Conflict, Forbidden
from hub.media.payload import decode_base64, media_kind
from hub.sessions.jids import normalise_jid
from hub.sessions.sandbox import SandboxEngine

bp = blueprint("sandbox", "Simulated phone for sandbox sessions")


class ScanBody(Model):
    phone: str | None = Field(None, pattern=r"^\d{7,15}$", description="Number the sandbox phone has")


class InboundMedia(Model):
    base64: str = Field(description="File content, base64 (a data URL is accepted too)")
    mimetype: str = Field(pattern=r"^[\w.+-]+/[\w.+-]+$")
    filename: str | None = Field(None, max_length=255)
    kind: str | None = Field(None, pattern="^(image|video|audio|document|sticker)$")
    fail_download: bool = Field(False, alias="failDownload",
                                description="Simulate media that can no longer be downloaded")


class InboundBody(Model):
    sender: str = Field(alias="from", description="Phone number or JID of the sender")
    text: str | None = Field(None, max_length=65536)
    push_name: str = Field("", alias="pushName", max_length=128)
    media: InboundMedia | None = None
    from_me: bool = Field(False, alias="fromMe", description="Sent from the phone itself")
    chat_id: str | None = Field(None, alias="chatId", description="Group JID for a group message")


def sandbox_engine(session_id: str) -> SandboxEngine:
    """The live sandbox engine of a session: 404 unknown, 409 not sandbox / not running."""
    context = hub()
    if not context.config.sandbox:
        raise Forbidden("The sandbox is disabled on this hub; set HUB_SANDBOX=true to enable it.",
                        code="sandbox_disabled")
    live = context.sessions.live.get(session_id)
    if live is not None and live.engine.name == "sandbox":
        return live.engine  # the hot path (every inbound message): no database read
    session = context.sessions.get(session_id)
    if session["engine"] != "sandbox":
        raise Conflict(f"Session '{session_id}' runs on the {session['engine']} engine, not the sandbox.",
                       code="not_sandbox")
    raise Conflict(f"Sandbox session '{session_id}' is not running; connect it first.",
                   code="session_not_running")


@bp.post("/sandbox/<session_id>/scan")
def scan(path: SessionPath, body: ScanBody):
    """The QR is scanned: the session links and connects."""
    device = sandbox_engine(path.session_id).scan(body.phone)
    return ok(jid=device, session=hub().sessions.get(path.session_id))


@bp.post("/sandbox/<session_id>/inbound")
def inbound(path: SessionPath, body: InboundBody):
    """A message arrives; answers once its event is stored."""
    engine = sandbox_engine(path.session_id)
    sender = normalise_jid(body.sender, "from")
    chat = normalise_jid(body.chat_id, "chatId") if body.chat_id else None
    media = None
    if body.media:
        media = {"data": decode_base64(body.media.base64, hub().config.max_media_bytes),
                 "mimetype": body.media.mimetype, "filename": body.media.filename,
                 "kind": body.media.kind or media_kind(body.media.mimetype),
                 "failDownload": body.media.fail_download}
    elif not body.text:
        raise BadRequest("Give text or media (or both).", code="empty_message")
    message_id = engine.inbound(sender, body.text, body.push_name, media, body.from_me, chat)
    return ok(messageId=message_id)


@bp.post("/sandbox/<session_id>/logout")
def remote_logout(path: SessionPath):
    """WhatsApp removes the device: credentials are deleted, a new QR is needed."""
    sandbox_engine(path.session_id).remote_logout()
    return ok(session=hub().sessions.get(path.session_id))


@bp.get("/sandbox/<session_id>/sent")
def sent(path: SessionPath):
    """What the sandbox phone has "sent", oldest first."""
    return ok(messages=sandbox_engine(path.session_id).sent_messages())
