"""SessionManager: the lifecycle of every session in this process.

It creates, starts, stops, logs out, pairs, restores and deletes sessions, and owns the live
ones (`hub.sessions.live`). It answers the questions others ask about them (is it running, which
engine to send with). Its parts: the rows and their cached views (`rows.py`), status changes
(`status.py`), the engines' reports and redials (`sink.py`), the engine factory (`factory.py`)
and sessions.config.json (`sessions_file.py`).
"""
from __future__ import annotations

import logging
import re
import shutil
import threading
import time
from pathlib import Path

import gevent

from hub.caller import current_caller
from hub.cluster.commands import on_holder
from hub.cluster.node import Node
from hub.errors import BadRequest, Conflict, Forbidden, Unavailable
from hub.events import EventLog
from hub.rules import ENGINE_NAMES, SESSION_ID_PATTERN
from hub.sessions import factory, history
from hub.sessions.engine import Engine, EngineError, NotConnected
from hub.sessions.history import HistoryWorker
from hub.sessions.lids import LidStore
from hub.sessions.live import RECONNECT, LiveSession
from hub.sessions.mapping import StatusChange
from hub.sessions.rows import SessionRows
from hub.sessions.sessions_file import read_entries
from hub.sessions.sink import SessionSink
from hub.sessions.status import StatusRecorder
from hub.store import Store
from hub.store.models import AT_REST, SESSION_DOWN, SESSION_RUNNING, SessionStatus, isoformat

log = logging.getLogger(__name__)

SESSION_ID = re.compile(SESSION_ID_PATTERN)
# A start is under way or done: starting again changes nothing.
STARTED = (SessionStatus.STARTING, SessionStatus.QR, SessionStatus.CONNECTED)


def validate_session_id(session_id: str) -> str:
    """The id itself when it is a valid session id; 400 otherwise."""
    if not isinstance(session_id, str) or not SESSION_ID.match(session_id):
        raise BadRequest("sessionId must be 1-64 characters from A-Z, a-z, 0-9, '_' and '-'.",
                         code="invalid_session_id")
    return session_id


def _no_simulator():
    raise Unavailable("The simulated WhatsApp is not installed in this hub.", code="sandbox_unavailable")


class SessionManager(SessionSink):
    """Creates, starts, stops and watches sessions; implements the engines' sink."""

    def __init__(self, config, store: Store, events: EventLog, node: Node | None = None):
        self.config = config
        self.store = store
        self.events = events
        self.node = node or Node(config.node_id or "local", clustered=False, lease_ttl=config.lease_ttl)
        self.rows = SessionRows(store)
        self.statuses = StatusRecorder(self.rows, events, self.node.fence)
        self._live: dict[str, LiveSession] = {}  # others ask: is_running, connected_engine, engine_name
        self._lock = threading.RLock()
        self.on_delete: list = []  # callbacks(db, session_id), e.g. remove its webhooks
        self.lids = LidStore(store)  # LID <-> phone mappings WhatsApp revealed
        self.call_handler = None  # (session_id, draft): incoming calls (hub.calls.install)
        self.media_handler = None  # (manager, session_id, draft): media messages (hub.media.downloads.install)
        self.simulator = _no_simulator  # () -> the simulated WhatsApp of sandbox sessions (hub.sandbox.install)
        self.backoff = RECONNECT  # tests give a faster one
        self.history = HistoryWorker(self)  # works through WhatsApp's history syncs (hub/sessions/history.py)
        self.on_delete.append(history.forget)
        self.router = None  # a cluster's calls for sessions held elsewhere (hub.cluster.commands)

    # Reads of the rows: see SessionRows.
    def get(self, session_id: str) -> dict:
        """The session's public view (the caller's own copy, with the process that holds it); NotFound if unknown."""
        # A session another process runs changes there: this process's cached view of it would be stale.
        view = self.rows.get(session_id) if self.node.holds(session_id) else self.rows.fresh(session_id)
        view["owner"] = self.node.owner(session_id, session_id in self._live)
        return view

    def peek(self, session_id: str) -> dict:
        """The cached view itself, for hot paths that only read it (never edit it); NotFound if unknown."""
        return self.rows.peek(session_id)

    def list(self) -> list[dict]:
        """Every session the caller sees (a scoped key: its own), oldest first."""
        caller = current_caller()
        return [{**view, "owner": self.node.owner(view["sessionId"], view["sessionId"] in self._live)}
                for view in self.rows.list() if caller.sees(view["sessionId"])]

    def exists(self, session_id: str) -> bool:
        """Whether the session exists."""
        return self.rows.exists(session_id)

    def is_running(self, session_id: str) -> bool:
        """Whether the session has a live engine in this process (starting, qr, connected or retrying)."""
        return session_id in self._live

    def engine_name(self, session_id: str) -> str | None:
        """`neonize` or `sandbox` for a running session, else None."""
        live = self._live.get(session_id)
        return live.engine.name if live else None

    def connected_engine(self, session_id: str) -> Engine | None:
        """The engine to send with right now, or None when the session is not connected."""
        live = self._live.get(session_id)
        if live is None or self.peek(session_id)["status"] != SessionStatus.CONNECTED:
            return None
        return live.engine

    def engine_of(self, session_id: str) -> Engine:
        """The live engine; NotConnected when the session is not running."""
        live = self._live.get(session_id)
        if live is None:
            raise NotConnected(f"Session '{session_id}' is not running; connect it first.")
        return live.engine

    @on_holder
    def qr(self, session_id: str) -> dict:
        """The QR to scan now (409 when the session is not waiting for one)."""
        status = self.get(session_id)["status"]
        live = self._live.get(session_id)
        if status != SessionStatus.QR or live is None or live.qr is None:
            code = "already_connected" if status == SessionStatus.CONNECTED else "no_qr"
            raise Conflict(f"Session '{session_id}' has no QR code to scan (status: {status}).",
                           code=code, sessionStatus=status)
        return {"sessionId": session_id, "status": status, "qr": live.qr,
                "expiresAt": isoformat(live.qr_expires_at)}

    def store_dir(self, session_id: str) -> Path:
        """The session's whatsmeow store directory."""
        return factory.store_dir(self.config, session_id)

    def has_credentials(self, session_id: str, engine: str | None = None) -> bool:
        """Whether a linked device is stored (then start() reconnects without a scan)."""
        live = self._live.get(session_id)
        if live is not None:
            return live.engine.has_credentials()
        return self._new_engine(session_id, engine or self.get(session_id)["engine"]).has_credentials()

    def create(self, session_id: str, description: str = "", engine: str | None = None) -> dict:
        """Add a session (stopped). 409 if the id is taken; 403 for sandbox when disabled or for a scoped key."""
        current_caller().require_admin("create sessions")
        validate_session_id(session_id)
        engine = engine or self.config.engine
        self._check_engine_allowed(engine)
        return self.rows.insert(session_id, description or "", engine)

    def update(self, session_id: str, description: str | None, settings: dict) -> dict:
        """Change the description and/or settings (validated changes: hub/session_settings.py)."""
        return self.rows.update(session_id, description, settings)

    def _check_engine_allowed(self, engine: str) -> None:
        if engine not in ENGINE_NAMES:
            raise BadRequest(f"Unknown engine '{engine}': use {' or '.join(repr(name) for name in ENGINE_NAMES)}.",
                             code="invalid_engine")
        if engine == "sandbox" and not self.config.sandbox:
            raise Forbidden("Sandbox sessions are disabled on this hub; set HUB_SANDBOX=true to enable them.",
                            code="sandbox_disabled")

    def start(self, session_id: str, retry: bool = False, settle: float = 0.0) -> dict:
        """Connect the session (idempotent while it is running). Returns its view.

        A `retry` (the reconnect timer) leaves the status at `disconnected` while it dials, so
        the session keeps showing why it is down and when the next try is. `settle`: wait up to
        that many seconds for the dial's first outcome (a QR, connected, or why it failed).
        """
        with self._lock:
            view = self.get(session_id)
            live = self._live.get(session_id)
            if live is not None and view["status"] in STARTED:
                return self.settled(session_id, settle)
            if live is None and not self._claim(session_id):
                return self._start_elsewhere(session_id, view)
            if live is None:
                live = self._live[session_id] = LiveSession(self._new_engine(session_id, view["engine"]))
            live.cancel_reconnect()
        if not retry:
            self.statuses.save(session_id, StatusChange(SessionStatus.STARTING))
        try:
            live.engine.start()
        except Exception as exc:  # a dial that fails at once is reported like any failed dial
            log.warning("session %s failed to start: %s", session_id, exc, extra={"sessionId": session_id})
            self.on_connect_failed(session_id, f"{type(exc).__name__}: {exc}")
        return self.settled(session_id, settle)

    def _claim(self, session_id: str) -> bool:
        """Whether this process may run the session (cluster: it holds, or just took, the lease)."""
        if self.node.holds(session_id):
            return True
        with self.store.session() as db:
            return self.node.claim(db, session_id)

    def _start_elsewhere(self, session_id: str, view: dict) -> dict:
        """Another process holds the session: ask for it to run (the holder, or whoever takes it, starts it)."""
        if view["status"] not in SESSION_RUNNING:
            self.statuses.save(session_id, StatusChange(SessionStatus.STARTING))
        return self.get(session_id)

    def take_over(self, session_id: str) -> dict:
        """Start a session whose lease this process just took (cluster)."""
        return self.start(session_id)

    def hand_over(self, session_id: str, announce: bool = False) -> None:
        """Stop running the session here: another process takes it (cluster).

        `announce`: this process still holds the lease, so it says why the session drops for a moment
        (a lost lease is not announced: the new holder's reports are the truth).
        """
        if announce and session_id in self._live:
            handing = StatusChange(SessionStatus.DISCONNECTED, reason="handed over to another hub process",
                                   reconnect=False)
            self.statuses.save(session_id, handing, fenced=True)
        self._let_go(session_id, forget=False)

    def settled(self, session_id: str, timeout: float) -> dict:
        """The session's view once it has left `starting` (or after `timeout` seconds)."""
        deadline = time.monotonic() + timeout
        while (view := self.get(session_id))["status"] == SessionStatus.STARTING and time.monotonic() < deadline:
            gevent.sleep(0.02)
        return view

    @on_holder
    def stop(self, session_id: str, status: str = SessionStatus.STOPPED, reason: str | None = None) -> dict:
        """Disconnect and forget the live engine; credentials stay on disk."""
        self.get(session_id)
        self._let_go(session_id, forget=False)
        self.statuses.save(session_id, StatusChange(status, reason=reason, reconnect=False))
        self._release(session_id)
        return self.get(session_id)

    @on_holder
    def logout(self, session_id: str) -> dict:
        """Unlink the device and delete its credentials (409 when the session is not running)."""
        view = self.get(session_id)
        live = self._live.get(session_id)
        if live is None or view["status"] not in SESSION_RUNNING:
            raise Conflict(f"Session '{session_id}' is not running (status: {view['status']}); nothing to log out.",
                           code="session_not_running")
        with self._lock:
            self._live.pop(session_id, None)
        live.cancel_reconnect()
        self._quietly(live.engine.logout, session_id)
        self.statuses.save(session_id, StatusChange(SessionStatus.LOGGED_OUT, reason="logged out through the API",
                                                    reconnect=False))
        return self.get(session_id)

    def delete(self, session_id: str) -> None:
        """Stop, delete the credentials and the session row (and what hangs off it)."""
        view = self.get(session_id)
        with self._lock:
            live = self._live.pop(session_id, None)
        engine = live.engine if live else self._new_engine(session_id, view["engine"])
        if live is not None:
            live.cancel_reconnect()
            self._quietly(engine.stop, session_id)
        self._quietly(engine.forget_credentials, session_id)
        shutil.rmtree(self.store_dir(session_id), ignore_errors=True)
        self.rows.delete(session_id, self.on_delete)

    @on_holder
    def pair(self, session_id: str, phone: str, wait: float = 20.0) -> str:
        """A pairing code for `phone`; starts the session and waits until its websocket is up."""
        view = self.get(session_id)
        if view["status"] == SessionStatus.CONNECTED:
            raise Conflict(f"Session '{session_id}' is already linked and connected.", code="already_connected")
        if view["status"] != SessionStatus.QR:
            self.start(session_id)
        self._await_qr(session_id, wait)
        try:
            return self.engine_of(session_id).pair(phone)
        except EngineError as exc:
            raise Unavailable(f"WhatsApp did not give a pairing code: {exc}", code="pairing_failed") from exc

    def _await_qr(self, session_id: str, wait: float) -> None:
        """Until the session shows a QR (its websocket is up); 503 once it is down or too late."""
        deadline = time.monotonic() + wait
        while (view := self.get(session_id))["status"] != SessionStatus.QR:
            if view["status"] == SessionStatus.STOPPED:  # a caller stopped it meanwhile: nothing to wait for
                raise Conflict(f"Session '{session_id}' was stopped before WhatsApp gave a pairing code.",
                               code="session_stopped", sessionStatus=view["status"])
            if view["status"] in SESSION_DOWN or time.monotonic() > deadline:
                raise Unavailable(f"Session '{session_id}' could not reach WhatsApp to request a pairing code "
                                  f"(status: {view['status']}; {view['lastError'] or 'no answer yet'}).",
                                  code="pairing_unavailable", sessionStatus=view["status"])
            time.sleep(0.2)

    def stop_all(self) -> None:
        """Stop every live session (process shutdown); statuses stay as they were for restore."""
        with self._lock:
            lives = list(self._live.items())
            self._live.clear()
        for session_id, live in lives:
            live.cancel_reconnect()
            self._quietly(live.engine.stop, session_id)

    def restore_all(self) -> list[str]:
        """Start every session whose credentials are on disk; mark the others stopped.

        In a cluster the coordinator starts the sessions this process takes (hub.cluster.coordinator).
        """
        if self.node.clustered:
            return []
        restored = [session_id for session_id in self._restorable() if session_id not in self._live]
        for session_id in restored:  # (one in _live was created and started from sessions.config.json)
            self.start(session_id)
        return restored

    def wish_restored(self) -> list[str]:
        """A cluster forms (its first process starts): what a restart of one hub brings back is wished running."""
        wished = [session_id for session_id in self._restorable() if self.get(session_id)["status"] in AT_REST]
        for session_id in wished:
            self.statuses.save(session_id, StatusChange(SessionStatus.STARTING))
        return wished

    def _restorable(self) -> list[str]:
        """The sessions whose credentials are stored; the unlinked ones not at rest are marked stopped."""
        restorable = []
        for view in self.rows.list():
            session_id = view["sessionId"]
            if view["engine"] == "sandbox" and not self.config.sandbox:
                continue
            if self.has_credentials(session_id, view["engine"]):
                restorable.append(session_id)
            elif view["status"] not in AT_REST:
                unlinked = StatusChange(SessionStatus.STOPPED, reason="hub restarted before it was linked")
                self.statuses.save(session_id, unlinked)
        return restorable

    def create_from_file(self, path: str) -> list[str]:
        """Create the sessions listed in sessions.config.json that do not exist yet, and start all of them."""
        created = []
        for entry in read_entries(path):
            if not self.exists(entry.session_id):
                self.create(entry.session_id, entry.description, entry.engine)
                created.append(entry.session_id)
            self.start(entry.session_id)  # every boot: connected when linked, else showing a QR
        return created

    def _let_go(self, session_id: str, forget: bool) -> None:
        """Stop the session's live engine and its reconnects (and forget its device)."""
        with self._lock:
            live = self._live.pop(session_id, None)
        if live is None:
            return
        live.cancel_reconnect()
        self._quietly(live.engine.stop, session_id)
        if forget:
            self._quietly(live.engine.forget_credentials, session_id)

    def _release(self, session_id: str) -> None:
        """Hand the session's lease back (cluster): it stopped here, nobody needs to wait for the lease to expire."""
        if self.node.clustered and self.node.held.pop(session_id, None) is not None:
            with self.store.session() as db:
                self.node.release(db, session_id)

    def _new_engine(self, session_id: str, engine_name: str) -> Engine:
        return factory.new_engine(session_id, engine_name, self, self.config, self.simulator, self.store)

    @staticmethod
    def _quietly(call, session_id: str) -> None:
        try:
            call()
        except Exception:
            log.exception("session %s: %s failed", session_id, getattr(call, "__name__", "call"),
                          extra={"sessionId": session_id})
