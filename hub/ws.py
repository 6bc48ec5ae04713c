"""WebSocket endpoints.

/ws/session/<sessionId>[?engine=sandbox]: opening it creates the session if needed and starts it;
the server sends {"event": "status"|"qr"|"error", "data": ...} and closes once connected. An
error's data is the message string (the older linking frontends display it as it is).
/ws/events[?sessionId=...]: every event envelope as it is recorded (for the dashboard) — in a
cluster by any process (hub/cluster/broadcast.py); a scoped key's socket gets its own sessions'
events only.
"""
from __future__ import annotations

import json
import logging
import time

from flask import request
from flask_sock import ConnectionClosed, Sock

from hub.api.common import hub
from hub.caller import current_caller
from hub.context import HubContext
from hub.errors import HubError
from hub.events import Subscription
from hub.store.models import SESSION_DOWN, SessionStatus

log = logging.getLogger(__name__)
sock = Sock()
MAX_WAIT = 600  # seconds a session socket stays open waiting for a scan
PING_INTERVAL = 15  # seconds of silence before /ws/events sends a keep-alive


def send(ws, event: str, data) -> None:
    ws.send(json.dumps({"event": event, "data": data}))


def _session_updates(envelope: dict, session_id: str) -> bool:
    return envelope["sessionId"] == session_id and envelope["type"] in ("qr", "session-status")


@sock.route("/ws/session/<session_id>")
def session_socket(ws, session_id: str):
    """Start a session and follow it to `connected`."""
    context = hub()
    subscription = context.bus.subscribe(lambda env: _session_updates(env, session_id))
    try:
        if not context.sessions.exists(session_id):
            context.sessions.create(session_id, engine=request.args.get("engine"))
        if context.sessions.get(session_id)["status"] == SessionStatus.CONNECTED:
            send(ws, "status", "already_connected")
            return
        send(ws, "status", "initializing")
        context.sessions.start(session_id)
        _follow(ws, context, session_id, subscription)
    except HubError as exc:
        send(ws, "error", exc.message)
    except ConnectionClosed:
        pass
    finally:
        subscription.close()
        ws.close()


def _follow(ws, context: HubContext, session_id: str, subscription: Subscription) -> None:
    """Relay QR codes and status changes until connected (or the client leaves)."""
    current = context.sessions.get(session_id)
    last_qr = None
    if current["status"] == SessionStatus.QR:
        last_qr = context.sessions.qr(session_id)["qr"]
        send(ws, "qr", last_qr)
    elif current["status"] == SessionStatus.CONNECTED:
        send(ws, "status", SessionStatus.CONNECTED)
        return
    deadline = time.monotonic() + MAX_WAIT
    while ws.connected and time.monotonic() < deadline:
        envelope = subscription.get(timeout=1.0)
        if envelope is None:
            continue
        if envelope["type"] == "qr":
            if envelope["data"]["qr"] != last_qr:  # the bus may repeat the one already sent
                last_qr = envelope["data"]["qr"]
                send(ws, "qr", last_qr)
            continue
        status = envelope["data"]["status"]
        if status == SessionStatus.CONNECTED:
            send(ws, "status", SessionStatus.CONNECTED)
            return
        if status in SESSION_DOWN:  # a stopped session is "disconnected" to this socket's clients
            send(ws, "status", status if status != SessionStatus.STOPPED else SessionStatus.DISCONNECTED)
            if envelope["data"].get("reason"):
                send(ws, "error", envelope["data"]["reason"])
            if status != SessionStatus.DISCONNECTED:
                return


@sock.route("/ws/events")
def events_socket(ws):
    """Stream every recorded event (optionally of one session) until the client leaves."""
    session_id, caller = request.args.get("sessionId"), current_caller()  # a scoped key: its sessions only
    subscription = hub().bus.subscribe(
        lambda env: caller.sees(env["sessionId"]) and (session_id is None or env["sessionId"] == session_id))
    last_sent = time.monotonic()
    try:
        # Short waits so a client that left is noticed within a second (graceful shutdown waits on us).
        while ws.connected:
            envelope = subscription.get(timeout=1.0)
            if envelope is not None:
                ws.send(json.dumps(envelope))
            elif time.monotonic() - last_sent > PING_INTERVAL:
                ws.send(json.dumps({"type": "ping"}))
            else:
                continue
            last_sent = time.monotonic()
    except ConnectionClosed:
        pass
    finally:
        subscription.close()


def init_app(app) -> None:
    sock.init_app(app)
