"""Sessions: create, list, inspect, connect, logout, delete, QR, pairing code."""
from __future__ import annotations

import io
from typing import Any

import segno
from flask import Response
from pydantic import Field

from hub.api.common import PHONE_SCHEMA, START_SETTLE, Model, SessionPath, blueprint, hub, ok
from hub.api.responses import answers, ok_model
from hub.contacts.numbers import phone_digits
from hub.outbound.limits import with_queue
from hub.rules import ENGINE_PATTERN, SESSION_ID_PATTERN
from hub.session_settings import SettingsPatch

bp = blueprint("sessions", "WhatsApp sessions (one per number)")
SessionAnswer = ok_model("SessionAnswer", session=dict[str, Any])
QrAnswer = ok_model("QrAnswer", sessionId=str, status=str, qr=str, expiresAt=str | None)
QR_ANSWERS = {200: {"description": "The QR: JSON, or an SVG or PNG image with ?format=",
                    "content": {"application/json": {"schema": QrAnswer.model_json_schema()},
                                "image/svg+xml": {"schema": {"type": "string"}},
                                "image/png": {"schema": {"type": "string", "format": "binary"}}}}}


class CreateSession(Model):
    session_id: str = Field(alias="sessionId", pattern=SESSION_ID_PATTERN,
                            description="Letters, digits, '_' and '-', at most 64")
    description: str = Field("", max_length=500)
    engine: str | None = Field(None, pattern=ENGINE_PATTERN, description="Default: HUB_ENGINE")
    start: bool = Field(False, description="Connect right away")


class UpdateSession(Model):
    description: str | None = Field(None, max_length=500)
    settings: SettingsPatch = Field(default_factory=SettingsPatch,
                                    description="Only the keys given change; null restores a key's default")


class QrQuery(Model):
    format: str = Field("json", pattern="^(json|svg|png)$")


class PairBody(Model):
    phone: str = Field(description="Phone number with country code, digits (+, spaces, dashes allowed)",
                       json_schema_extra=PHONE_SCHEMA)


@bp.post("/sessions", responses=answers({201: SessionAnswer}, 409))
def create_session(body: CreateSession):
    """Create a session (stopped unless `start` is true)."""
    manager = hub().sessions
    session = manager.create(body.session_id, body.description, body.engine)
    if body.start:
        session = manager.start(body.session_id, settle=START_SETTLE)
    return ok(session=session), 201


@bp.get("/sessions", responses=answers(ok_model("SessionList", sessions=list[dict[str, Any]])))
def list_sessions():
    """Every session with its status."""
    return ok(sessions=[with_queue(hub(), view) for view in hub().sessions.list()])


@bp.get("/sessions/<session_id>", responses=answers(SessionAnswer, 404))
def get_session(path: SessionPath):
    """One session's status, reconnect state and last error."""
    return ok(session=with_queue(hub(), hub().sessions.get(path.session_id)))


@bp.patch("/sessions/<session_id>", responses=answers(SessionAnswer, 404))
def update_session(path: SessionPath, body: UpdateSession):
    """Change the description and settings (calls, history sync, send limits)."""
    return ok(session=hub().sessions.update(path.session_id, body.description, body.settings.changes()))


@bp.delete("/sessions/<session_id>", responses=answers(ok_model("SessionDeleted", deleted=str), 404))
def delete_session(path: SessionPath):
    """Stop the session and delete it with its credentials."""
    hub().sessions.delete(path.session_id)
    return ok(deleted=path.session_id)


@bp.post("/sessions/<session_id>/connect", responses=answers(SessionAnswer, 404, 409))
def connect_session(path: SessionPath):
    """Start connecting (shows a QR when the session is not linked yet)."""
    return ok(session=hub().sessions.start(path.session_id, settle=START_SETTLE))


@bp.post("/sessions/<session_id>/stop", responses=answers(SessionAnswer, 404, 503))
def stop_session(path: SessionPath):
    """Disconnect; credentials stay, so connect resumes without a scan."""
    return ok(session=hub().sessions.stop(path.session_id))


@bp.post("/sessions/<session_id>/logout", responses=answers(SessionAnswer, 404, 409, 503))
def logout_session(path: SessionPath):
    """Unlink the device from WhatsApp and delete its credentials."""
    return ok(session=hub().sessions.logout(path.session_id))


@bp.get("/sessions/<session_id>/qr", responses={**QR_ANSWERS, **answers({}, 404, 409, 503)})
def session_qr(path: SessionPath, query: QrQuery):
    """The QR to scan: JSON, or an image with ?format=svg|png."""
    qr = hub().sessions.qr(path.session_id)
    if query.format == "json":
        return ok(**qr)
    return qr_image(qr["qr"], query.format)


def qr_image(code: str, image_format: str) -> Response:
    """The QR code as an SVG or PNG image."""
    qr = segno.make(code, error="m")
    buffer = io.BytesIO()
    qr.save(buffer, kind=image_format, scale=6, border=2)
    return Response(buffer.getvalue(), mimetype="image/svg+xml" if image_format == "svg" else "image/png")


@bp.post("/sessions/<session_id>/pair",
         responses=answers(ok_model("PairAnswer", sessionId=str, phone=str, code=str), 404, 409, 503))
def pair_session(path: SessionPath, body: PairBody):
    """Link by phone number: returns the code to type on the phone."""
    phone = phone_digits(body.phone)
    code = hub().sessions.pair(path.session_id, phone)
    return ok(sessionId=path.session_id, phone=phone, code=code)
