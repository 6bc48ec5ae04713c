"""Socket.IO at /socket.io/ for the browser clients of the older systems (README.md, "Socket.IO").

python-socketio runs inside the same gunicorn gevent worker as the API (`async_mode` gevent when
the process is monkey-patched, threads otherwise), wrapped around the Flask app so that
/socket.io/ never reaches Flask. Protocol, as the older multi-session API's web clients use it:

- connect with the key as `auth: {apiKey}` (or `?apiKey=`, `X-API-Key`, `Authorization: Bearer`);
  without a valid key the connection is refused and `connect_error` carries the hub's error shape
  `{success: false, error, message}` in `err.data`. A client from `HUB_TRUSTED_NETWORKS` needs no
  key, unless a browser says it comes from another site (`Origin` not this host): a page on the
  internet must not read the events through a browser inside the trusted network.
- emit `subscribe` with `{sessionId}` (or the id as a string) for one session, or with nothing for
  all (a scoped key: all of its own; to it no other session exists); the acknowledgement is
  `{success: true, sessionId}`. An unknown session gets an `error` event (same shape) and the
  connection stays open. `unsubscribe` takes the same argument.
- every event recorded afterwards (in a cluster, by any process: hub/cluster/broadcast.py) arrives
  under its type name (`message-received`, `session-status`, `qr`, ...) with the envelope as data,
  once per client however many of its subscriptions match. Nothing is replayed: the bus is in
  memory (GET /api/events has the past).
"""
from __future__ import annotations

import logging
import threading

import socketio
from flask import request

from hub.auth import caller_for, is_trusted_address, presented_key
from hub.caller import ADMIN, Caller
from hub.errors import error_body

log = logging.getLogger(__name__)

PATH = "socket.io"
EVERY_SESSION = "all-sessions"  # room of the clients subscribed to every session
EXTENSION = "hub.socket_io"  # app.extensions key of the server


def session_room(session_id: str) -> str:
    return f"session:{session_id}"


def async_mode() -> str:
    """gevent inside the gunicorn worker (monkey-patched), threads in a plain process (tests, scripts)."""
    try:
        from gevent import monkey
    except ImportError:
        return "threading"
    return "gevent" if monkey.is_module_patched("socket") else "threading"


class Relay:
    """One bus subscription and one background task that emit every envelope to the rooms that want it."""

    def __init__(self, server: socketio.Server, bus):
        self.server, self.bus = server, bus
        self._lock = threading.Lock()
        self._started = False

    def ensure_running(self) -> None:
        """Start relaying at the first connection (a hub without Socket.IO clients does no work)."""
        with self._lock:
            if self._started:
                return
            self._started = True
        subscription = self.bus.subscribe()
        self.server.start_background_task(self._run, subscription)

    def _run(self, subscription) -> None:
        while True:
            envelope = subscription.get(timeout=5.0)
            if envelope is None:
                continue
            try:
                rooms = [EVERY_SESSION] + ([session_room(envelope["sessionId"])] if envelope["sessionId"] else [])
                self.server.emit(envelope["type"], envelope, to=rooms)
            except Exception:  # one bad emit must not end the relay for everyone
                log.exception("socket.io relay failed for event %s", envelope.get("id"))


class Gateway:
    """The Socket.IO event handlers: connect (auth), subscribe, unsubscribe."""

    def __init__(self, app, server: socketio.Server, relay: Relay):
        self.app, self.server, self.relay = app, server, relay
        self.context = app.extensions["hub"]

    def connect(self, sid: str, environ: dict, auth=None):
        """Refuse a connection without a valid key (connect_error data: the hub's error shape)."""
        caller, refusal = self.admit(environ, auth)
        if refusal is not None:
            raise socketio.exceptions.ConnectionRefusedError(refusal["message"], refusal)
        self.server.save_session(sid, {"caller": caller})
        self.relay.ensure_running()

    def admit(self, environ: dict, auth) -> tuple[Caller | None, dict | None]:
        """(the caller, None) when the client may connect, else (None, the error body)."""
        given = auth.get("apiKey") if isinstance(auth, dict) else None
        config = self.context.config
        with self.app.request_context(environ):
            if not given and is_trusted_address(request.remote_addr, config.trusted_networks) \
                    and same_site(environ):
                return ADMIN, None
            key = given if isinstance(given, str) and given else presented_key()
            caller = caller_for(key) if key is not None else None
        if key is None:
            return None, error_body("unauthorized", "An API key is required: connect with auth: {apiKey: <key>} "
                                                    "or ?apiKey=<key>.")
        if caller is None:
            return None, error_body("forbidden", "The API key is not valid.")
        return caller, None

    def rooms(self, sid: str, session_id: str | None) -> list[str]:
        """The rooms of one session, or of every session the client's caller sees."""
        caller = self.server.get_session(sid)["caller"]
        if session_id:
            return [session_room(session_id)]
        return [EVERY_SESSION] if caller.is_admin else [session_room(name) for name in sorted(caller.sessions)]

    def subscribe(self, sid: str, data=None) -> dict:
        """Join the room of one session (or of every session); an unknown session is an `error` event."""
        session_id, problem = self.requested_session(sid, data)
        if problem is not None:
            self.server.emit("error", problem, to=sid)
            return problem
        for room in self.rooms(sid, session_id):
            self.server.enter_room(sid, room)
        return {"success": True, "sessionId": session_id}

    def unsubscribe(self, sid: str, data=None) -> dict:
        """Leave the room of one session (or of every session)."""
        session_id, problem = self.requested_session(sid, data)
        if problem is not None:
            return problem
        for room in self.rooms(sid, session_id):
            self.server.leave_room(sid, room)
        return {"success": True, "sessionId": session_id}

    def requested_session(self, sid: str, data) -> tuple[str | None, dict | None]:
        """(session id or None for all, None) or (None, error body) for a bad or unknown session (to this caller)."""
        session_id = data.get("sessionId") if isinstance(data, dict) else data
        if session_id is None or session_id == "":
            return None, None
        caller = self.server.get_session(sid)["caller"]
        known = isinstance(session_id, str) and caller.sees(session_id) and self.context.sessions.exists(session_id)
        if not known:
            return None, error_body("session_not_found", f"Session '{session_id}' does not exist; "
                                                         f"subscribe with an existing sessionId, or none for all.")
        return session_id, None


def same_site(environ: dict) -> bool:
    """No Origin (not a browser) or an Origin naming this very host."""
    origin = environ.get("HTTP_ORIGIN")
    if not origin:
        return True
    host = environ.get("HTTP_X_FORWARDED_HOST") or environ.get("HTTP_HOST", "")
    return origin.split("://", 1)[-1] == host


def disconnect_all(app) -> None:
    """Close every Socket.IO connection (graceful shutdown: the clients reconnect to the next process)."""
    server = app.extensions.get(EXTENSION)
    if server is not None:
        server.eio.disconnect()


def install(app) -> socketio.Server:
    """Serve Socket.IO at /socket.io/ in front of the app's WSGI callable; returns the server."""
    server = app.extensions[EXTENSION] = socketio.Server(async_mode=async_mode(), cors_allowed_origins="*",
                                                         logger=False, engineio_logger=False)
    gateway = Gateway(app, server, Relay(server, app.extensions["hub"].bus))
    server.on("connect", gateway.connect)
    server.on("subscribe", gateway.subscribe)
    server.on("unsubscribe", gateway.unsubscribe)
    app.wsgi_app = socketio.WSGIApp(server, app.wsgi_app, socketio_path=PATH)
    return server
