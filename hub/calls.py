"""Incoming calls: a `call-received` event for each; with the session setting `rejectCalls` the hub
rejects the call (whatsmeow RejectCall) and sends `rejectCallMessage` to the caller through the
durable send queue (README "Calls").

Handled in a greenlet of its own: rejecting is a round trip to WhatsApp, and the session's event
stream must not wait for it.
"""
from __future__ import annotations

import logging

import gevent

from hub.context import HubContext
from hub.outbound import service
from hub.outbound.request import SendRequest
from hub.sessions import inbound
from hub.sessions.engine import EngineError, NotConnected
from hub.sessions.mapping import HubEventDraft

log = logging.getLogger(__name__)


def install(context: HubContext) -> None:
    """Route the session manager's incoming calls here."""
    context.sessions.call_handler = lambda session_id, draft: gevent.spawn(handle, context, session_id, draft)


def handle(context: HubContext, session_id: str, draft: HubEventDraft) -> None:
    """Reject when the session says so, record the event, then queue the message to the caller."""
    try:
        settings = context.sessions.peek(session_id)["settings"]
        if settings["rejectCalls"]:
            draft.data["rejected"] = reject(context, session_id, draft.event)
        inbound.ingest(context.sessions, session_id, draft)
        message = settings["rejectCallMessage"]
        if draft.data["rejected"] and message:
            service.accept(context, SendRequest(to=draft.data["from"], text=message, session_id=session_id,
                                                queue_only=True, force=True))
    except Exception:
        log.exception("session %s: handling call %s failed", session_id, draft.data.get("callId"),
                      extra={"sessionId": session_id})


def reject(context: HubContext, session_id: str, offer) -> bool:
    """whatsmeow RejectCall to the call's creator, as the offer named it; whether WhatsApp took it."""
    meta = offer.basicCallMeta
    try:
        context.sessions.engine_of(session_id).call("reject_call", meta.callCreator, meta.callID)
    except (EngineError, NotConnected) as exc:
        log.warning("session %s: could not reject call %s: %s", session_id, meta.callID, exc,
                    extra={"sessionId": session_id})
        return False
    return True
