"""The simulated WhatsApp's phone side (sandbox sessions only): scan, messages in, logout, faults."""
from __future__ import annotations

import time
from typing import Any

import gevent
from pydantic import ConfigDict, Field

from hub.api.common import RECIPIENT_SCHEMA, Model, SessionPath, blueprint, hub, ok
from hub.api.responses import Ok, answers, ok_model
from hub.api.send import STANDALONE, ContactBody, LocationBody, PollBody, content_given, plain_json
from hub.errors import BadRequest, Conflict, Forbidden
from hub.media import downloads
from hub.media.payload import decode_base64, media_kind
from hub.rules import MIMETYPE_PATTERN, JsonInt
from hub.sandbox.history import generated
from hub.sandbox.phone import InboundSpec, Phone
from hub.sandbox.phone_messages import add_extras
from hub.sessions.jids import normalise_jid
from hub.store.models import SessionStatus

bp = blueprint("sandbox", "Simulated WhatsApp for sandbox sessions (the phone side)")
# 403 the sandbox is disabled, 404 no such session, 409 not a sandbox session (or not in a state for it).
PHONE_ERRORS = (403, 404, 409)
Inbound = ok_model("Inbound", messageId=str, stored=bool)
SandboxSession = answers(ok_model("SandboxSession", session=dict[str, Any]), *PHONE_ERRORS)
SETTLE_WAIT = 10.0  # seconds a phone action waits for the session to reach the status it causes


class HistorySize(Model):
    chats: int = Field(5, ge=1, le=1000)
    messages: int = Field(0, ge=0, le=100_000)


class ScanBody(Model):
    phone: str | None = Field(None, pattern=r"^\d{7,15}$", description="Number the sandbox phone has")
    history: HistorySize | None = Field(None, description="The history sync the phone sends once linked "
                                        "(default: HUB_SANDBOX_HISTORY_CHATS / HUB_SANDBOX_HISTORY_MESSAGES)")


class InboundMedia(Model):
    base64: str = Field(description="File content, base64 (a data URL is accepted too)")
    mimetype: str = Field(pattern=MIMETYPE_PATTERN)
    filename: str | None = Field(None, max_length=255)
    kind: str | None = Field(None, pattern="^(image|video|audio|document|sticker)$")
    fail_download: bool = Field(False, alias="failDownload",
                                description="Simulate media that can no longer be downloaded")


class InboundBody(Model):
    # text, media, a location, a contact or a poll (else 400 empty_message)
    model_config = ConfigDict(json_schema_extra=content_given("text", r"[\s\S]", *STANDALONE))  # any text

    sender: str = Field(alias="from", description="Phone number or JID of the sender",
                        json_schema_extra=RECIPIENT_SCHEMA)
    text: str | None = Field(None, max_length=65536)
    push_name: str = Field("", alias="pushName", max_length=128)
    media: InboundMedia | None = None
    from_me: bool = Field(False, alias="fromMe", description="Sent from the phone itself")
    group: str | None = Field(None, description="Group JID: a message in that group, `from` a participant",
                              json_schema_extra=RECIPIENT_SCHEMA)
    chat_id: str | None = Field(None, alias="chatId", description="Group JID for a group message",
                                   json_schema_extra=RECIPIENT_SCHEMA)
    wait: bool = Field(True, description="Answer once the session stored it (false: once WhatsApp holds it)")
    location: LocationBody | None = None
    contact: ContactBody | None = None
    poll: PollBody | None = None
    reply_to: str | None = Field(None, alias="replyTo", max_length=128, description="Id of a message it quotes")
    mentions: list[str | int] | None = Field(None, max_length=1024, description="Numbers or JIDs it @-mentions")

    def extras(self) -> dict:
        """The location, contact, poll, replyTo and mentions, as plain JSON."""
        return {name: plain_json(getattr(self, field)) for name, field in (
            ("location", "location"), ("contact", "contact"), ("poll", "poll"), ("replyTo", "reply_to"),
            ("mentions", "mentions"))}


class PrivacyBody(Model):
    group_add: str = Field(alias="groupAdd", pattern="^(all|none)$", description="Who may add the number to groups")


class BanBody(Model):
    seconds: JsonInt = Field(3600, ge=1, le=30 * 86400, description="How long the temporary ban lasts")


class PhonePath(Model):
    phone: str = Field(pattern=r"^\d{7,15}$", description="A simulated number, digits with country code")


def sandbox_enabled():
    """The hub's components; 403 when the sandbox is disabled."""
    context = hub()
    if not context.config.sandbox:
        raise Forbidden("The sandbox is disabled on this hub; set HUB_SANDBOX=true to enable it.",
                        code="sandbox_disabled")
    return context


def sandbox_network():
    """The simulated WhatsApp's servers (403 when the sandbox is disabled)."""
    return sandbox_enabled().sessions.simulator().network


def phone_of(session_id: str) -> Phone:
    """The simulated phone side for a sandbox session: 404 unknown, 409 not a sandbox session."""
    context = sandbox_enabled()
    session = context.sessions.peek(session_id)
    if session["engine"] != "sandbox":
        raise Conflict(f"Session '{session_id}' runs on the {session['engine']} engine, not the sandbox.",
                       code="not_sandbox")
    return context.sessions.simulator().phone


def settled(session_id: str, statuses: tuple[str, ...]) -> dict:
    """The session's view once it reached one of `statuses` (or after SETTLE_WAIT seconds)."""
    deadline = time.monotonic() + SETTLE_WAIT
    while (view := hub().sessions.get(session_id))["status"] not in statuses and time.monotonic() < deadline:
        gevent.sleep(0.02)
    return view


@bp.post("/sandbox/<session_id>/scan", responses=answers(
    ok_model("Scanned", jid=str, session=dict[str, Any]), *PHONE_ERRORS))
def scan(path: SessionPath, body: ScanBody):
    """The QR is scanned: the session links and connects (answers once it is connected)."""
    config = hub().config
    size = body.history or HistorySize(chats=config.sandbox_history_chats, messages=config.sandbox_history_messages)
    phone = phone_of(path.session_id)
    if not hub().sessions.is_running(path.session_id):  # nothing will show a QR: say so now, not after QR_WAIT
        raise Conflict("The session is not showing a QR code; connect it first.", code="not_waiting_for_scan")
    jid = phone.scan(path.session_id, body.phone, generated(size.chats, size.messages))
    return ok(jid=jid, session=settled(path.session_id, (SessionStatus.CONNECTED,)))


@bp.post("/sandbox/<session_id>/inbound", responses=answers({200: Inbound, 202: Inbound}, *PHONE_ERRORS))
def inbound(path: SessionPath, body: InboundBody):
    """A message arrives; answers once its event is stored (202 when the session has not taken it yet)."""
    phone = phone_of(path.session_id)
    spec = InboundSpec(sender=normalise_jid(body.sender, "from"), text=body.text, push_name=body.push_name,
                       from_me=body.from_me, wait=body.wait,
                       chat=normalise_jid(body.group or body.chat_id, "group") if body.group or body.chat_id else None)
    if body.media:
        spec.media = {"data": decode_base64(body.media.base64, hub().config.max_media_bytes),
                      "mimetype": body.media.mimetype, "filename": body.media.filename,
                      "kind": body.media.kind or media_kind(body.media.mimetype),
                      "failDownload": body.media.fail_download}
    add_extras(phone, path.session_id, spec, body.extras())
    if not (body.text or body.media or spec.content):
        raise BadRequest("Give text or media (or both), or a location, contact or poll.", code="empty_message")
    message_id, stored = phone.inbound(path.session_id, spec)
    if stored and spec.media:
        stored = downloads.wait_recorded(path.session_id, message_id, hub().config.media_timeout + 5)
    return ok(messageId=message_id, stored=stored), 200 if stored or not body.wait else 202


@bp.post("/sandbox/<session_id>/logout", responses=SandboxSession)
def remote_logout(path: SessionPath):
    """WhatsApp removes the device: credentials are deleted, a new QR is needed."""
    phone_of(path.session_id).remote_logout(path.session_id)
    return ok(session=settled(path.session_id, (SessionStatus.LOGGED_OUT,)))


@bp.post("/sandbox/<session_id>/stream-replaced", responses=SandboxSession)
def stream_replaced(path: SessionPath):
    """Another client connected with the session's keys: WhatsApp drops this one (no reconnect)."""
    phone_of(path.session_id).stream_replaced(path.session_id)
    return ok(session=settled(path.session_id, (SessionStatus.DISCONNECTED,)))


@bp.post("/sandbox/<session_id>/ban", responses=SandboxSession)
def ban(path: SessionPath, body: BanBody):
    """A temporary ban: the session is disconnected until it expires (every reconnect is refused)."""
    phone_of(path.session_id).ban(path.session_id, body.seconds)
    return ok(session=settled(path.session_id, (SessionStatus.DISCONNECTED,)))


@bp.post("/sandbox/<session_id>/unencodable-receipt", responses=answers(Ok, *PHONE_ERRORS))
def unencodable_receipt(path: SessionPath):
    """A receipt goneonize 0.5.2 cannot encode (server-error): its event loop ends; the hub must redial."""
    phone_of(path.session_id).unencodable_receipt(path.session_id)
    return ok()


@bp.get("/sandbox/<session_id>/sent", responses=answers(
    ok_model("SandboxSent", messages=list[dict[str, Any]]), *PHONE_ERRORS))
def sent(path: SessionPath):
    """What the session sent, as its recipients received it, oldest first."""
    return ok(messages=phone_of(path.session_id).sent(path.session_id))


@bp.get("/sandbox/<session_id>/acknowledged", responses=answers(
    ok_model("SandboxAcknowledged", messageIds=list[str]), *PHONE_ERRORS))
def acknowledged(path: SessionPath):
    """Ids of the inbound messages the session acknowledged to the simulated WhatsApp, oldest first."""
    return ok(messageIds=phone_of(path.session_id).acked_ids(path.session_id))


@bp.put("/sandbox/privacy/<phone>", responses=answers(ok_model("PrivacyAnswer", phone=str, groupAdd=str)))
def set_privacy(path: PhonePath, body: PrivacyBody):
    """A simulated number's privacy: with groupAdd "none", adding it to a group is refused (403 for that row)."""
    sandbox_network().groups.set_privacy(path.phone, body.group_add)
    return ok(phone=path.phone, groupAdd=body.group_add)
