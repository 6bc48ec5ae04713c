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
  all; the acknowledgement is `{success: true, sessionId}`. An unknown session gets an `error`
  event (same shape) and the connection stays open. `unsubscribe` takes the same argument.
- every event recorded afterwards arrives under its type name (`message-received`,
  `session-status`, `qr`, ...) with the envelope as data, once per client however many of its
  subscriptions match. Nothing is replayed: the bus is in memory (GET /api/events has the past).
"""
from __future__ import annotations

import logging
import threading

import socketio
from flask import request

from hub.auth import is_trusted_address, key_is_valid, presented_key
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
        refusal = self.refusal(environ, auth)
        if refusal is not None:
            raise socketio.exceptions.ConnectionRefusedError(refusal["message"], refusal)
        self.relay.ensure_running()

    def refusal(self, environ: dict, auth) -> dict | None:
        """None when the client may connect, else the error body."""
        given = auth.get("apiKey") if isinstance(auth, dict) else None
        config = self.context.config
        with self.app.request_context(environ):
            if not given and is_trusted_address(request.remote_addr, config.trusted_networks) \
                    and same_site(environ):
                return None
            key = given if isinstance(given, str) and given else presented_key()
        if key is None:
            return error_body("unauthorized", "An API key is required: connect with auth: {apiKey: <key>} "
                                              "or ?apiKey=<key>.")
        if not key_is_valid(key, config.api_keys):
            return error_body("forbidden", "The API key is not valid.")
        return None

    def subscribe(self, sid: str, data=None) -> dict:
        """Join the room of one session (or of every session); an unknown session is an `error` event."""
        session_id, problem = self.requested_session(data)
        if problem is not None:
            self.server.emit("error", problem, to=sid)
            return problem
        self.server.enter_room(sid, session_room(session_id) if session_id else EVERY_SESSION)
        return {"success": True, "sessionId": session_id}

    def unsubscribe(self, sid: str, data=None) -> dict:
        """Leave the room of one session (or of every session)."""
        session_id, problem = self.requested_session(data)
        if problem is not None:
            return problem
        self.server.leave_room(sid, session_room(session_id) if session_id else EVERY_SESSION)
        return {"success": True, "sessionId": session_id}

    def requested_session(self, data) -> tuple[str | None, dict | None]:
        """(session id or None for all, None) or (None, error body) for a bad or unknown session."""
        session_id = data.get("sessionId") if isinstance(data, dict) else data
        if session_id is None or session_id == "":
            return None, None
        if not isinstance(session_id, str) or not self.context.sessions.exists(session_id):
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
