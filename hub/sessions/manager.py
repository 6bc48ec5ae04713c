"""SessionManager: the one owner of every live session in this process.

It creates engines, persists each session's status, turns what engines report (neonize
protobuf events, QR codes, failed dials) into status changes and hub events, and reconnects
with exponential backoff. A failure while handling one session's event is logged with the
session id and never reaches the engine, another session, or the process.
"""
from __future__ import annotations

import copy
import json
import logging
import re
import shutil
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import gevent
from sqlalchemy import select

from hub.backoff import Backoff
from hub.errors import BadRequest, Conflict, Forbidden, NotFound, Unavailable
from hub.events import EventLog
from hub.rules import ENGINE_NAMES, SESSION_ID_PATTERN
from hub.sessions import inbound
from hub.sessions.engine import Engine, EngineError, NotConnected
from hub.sessions.mapping import HubEventDraft, StatusChange, complete_poll_vote, connect_failure, map_event
from hub.store import Session, Store, utcnow
from hub.store.models import SESSION_DOWN, SESSION_RUNNING, SessionStatus, isoformat

log = logging.getLogger(__name__)

SESSION_ID = re.compile(SESSION_ID_PATTERN)
# While whatsmeow reconnects by itself (its dial is alive), the hub only watches: after this long
# without a connection it takes over (stops that client and redials).
WHATSMEOW_RECONNECT_WATCHDOG = 600.0
RECONNECT = Backoff(base=2.0, cap=300.0, jitter=0.2)  # 2, 4, 8 ... s, capped at 5 minutes, ±20 %
# A start is under way or done: starting again changes nothing.
STARTED = (SessionStatus.STARTING, SessionStatus.QR, SessionStatus.CONNECTED)


def validate_session_id(session_id: str) -> str:
    if not isinstance(session_id, str) or not SESSION_ID.match(session_id):
        raise BadRequest("sessionId must be 1-64 characters from A-Z, a-z, 0-9, '_' and '-'.",
                         code="invalid_session_id")
    return session_id


@dataclass
class LiveSession:
    engine: Engine
    qr: str | None = None
    qr_expires_at: datetime | None = None
    reconnect_timer: threading.Timer | None = None

    def cancel_reconnect(self) -> None:
        if self.reconnect_timer is not None:
            self.reconnect_timer.cancel()
            self.reconnect_timer = None


def _no_simulator():
    raise Unavailable("The simulated WhatsApp is not installed in this hub.", code="sandbox_unavailable")


class SessionManager:
    """Creates, starts, stops and watches sessions; implements the engines' sink."""

    def __init__(self, config, store: Store, events: EventLog):
        self.config = config
        self.store = store
        self.events = events
        self._live: dict[str, LiveSession] = {}  # others ask: is_running, connected_engine, engine_name
        self._lock = threading.RLock()
        self.on_delete: list = []  # callbacks(db, session_id), e.g. remove its webhooks
        self.media_handler = None  # (manager, session_id, draft): media messages (hub.media.downloads.install)
        self.simulator = _no_simulator  # () -> the simulated WhatsApp of sandbox sessions (hub.sandbox.install)
        self.backoff = RECONNECT  # tests give a faster one
        # Session views by id. Only this manager writes session rows, so it drops a view whenever it
        # changes one; every send and sandbox message reads the view, and this saves the query.
        self._views: dict[str, dict] = {}
        self._changes = 0  # bumped on every write: a view read before a write is not cached

    # -- queries -------------------------------------------------------------------------
    def get(self, session_id: str) -> dict:
        """The session's public view (the caller's own copy); NotFound if it does not exist."""
        return copy.deepcopy(self.peek(session_id))

    def peek(self, session_id: str) -> dict:
        """The cached view itself, for hot paths that only read it (never edit it); NotFound if unknown."""
        view = self._views.get(session_id)
        if view is None:
            changes = self._changes
            with self.store.session() as db:
                view = self._row(db, session_id).to_dict()
            with self._lock:
                if changes == self._changes:
                    self._views[session_id] = view
        return view

    def _forget_view(self, session_id: str) -> None:
        """After a write to the session's row (committed or not): the next get() reads it again."""
        with self._lock:
            self._changes += 1
            self._views.pop(session_id, None)

    def list(self) -> list[dict]:
        with self.store.session() as db:
            return [row.to_dict() for row in db.scalars(select(Session).order_by(Session.created_at))]

    def exists(self, session_id: str) -> bool:
        with self.store.session() as db:
            return db.get(Session, session_id) is not None

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
        return Path(self.config.sessions_dir) / session_id

    def has_credentials(self, session_id: str, engine: str | None = None) -> bool:
        """Whether a linked device is stored on disk (then start() reconnects without a scan)."""
        live = self._live.get(session_id)
        if live is not None:
            return live.engine.has_credentials()
        return self._new_engine(session_id, engine or self.get(session_id)["engine"]).has_credentials()

    # -- commands ------------------------------------------------------------------------
    def create(self, session_id: str, description: str = "", engine: str | None = None) -> dict:
        """Add a session (stopped). 409 if the id is taken; 403 for sandbox when disabled."""
        validate_session_id(session_id)
        engine = engine or self.config.engine
        self._check_engine_allowed(engine)
        with self.store.session() as db:
            if db.get(Session, session_id) is not None:
                raise Conflict(f"Session '{session_id}' already exists.", code="session_exists")
            row = Session(id=session_id, description=description or "", engine=engine, status=SessionStatus.STOPPED)
            db.add(row)
            db.flush()
            view = row.to_dict()
        self._forget_view(session_id)
        return view

    def update(self, session_id: str, description: str | None, settings: dict) -> dict:
        """Change the description and/or settings (validated changes: hub/session_settings.py)."""
        with self.store.session() as db:
            row = self._row(db, session_id)
            if description is not None:
                row.description = description
            row.change_settings(settings)
            db.flush()
            view = row.to_dict()
        self._forget_view(session_id)
        return view

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
            if live is None:
                live = self._live[session_id] = LiveSession(self._new_engine(session_id, view["engine"]))
            live.cancel_reconnect()
        if not retry:
            self._set_status(session_id, StatusChange(SessionStatus.STARTING))
        try:
            live.engine.start()
        except Exception as exc:  # a dial that fails at once is reported like any failed dial
            log.warning("session %s failed to start: %s", session_id, exc, extra={"sessionId": session_id})
            self.on_connect_failed(session_id, f"{type(exc).__name__}: {exc}")
        return self.settled(session_id, settle)

    def settled(self, session_id: str, timeout: float) -> dict:
        """The session's view once it has left `starting` (or after `timeout` seconds)."""
        deadline = time.monotonic() + timeout
        while (view := self.get(session_id))["status"] == SessionStatus.STARTING and time.monotonic() < deadline:
            gevent.sleep(0.02)
        return view

    def stop(self, session_id: str, status: str = SessionStatus.STOPPED, reason: str | None = None) -> dict:
        """Disconnect and forget the live engine; credentials stay on disk."""
        self.get(session_id)
        self._let_go(session_id, forget=False)
        self._set_status(session_id, StatusChange(status, reason=reason, reconnect=False))
        return self.get(session_id)

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
        self._set_status(session_id, StatusChange(SessionStatus.LOGGED_OUT, reason="logged out through the API",
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
        try:
            with self.store.session() as db:
                for callback in self.on_delete:
                    callback(db, session_id)
                db.delete(self._row(db, session_id))
        finally:
            self._forget_view(session_id)

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

    # -- start-up ------------------------------------------------------------------------
    def restore_all(self) -> list[str]:
        """Start every session whose credentials are on disk; mark the others stopped."""
        restored = []
        for view in self.list():
            session_id = view["sessionId"]
            if view["engine"] == "sandbox" and not self.config.sandbox:
                continue
            if session_id in self._live:
                continue  # created (and started) from sessions.config.json a moment ago
            if self.has_credentials(session_id, view["engine"]):
                self.start(session_id)
                restored.append(session_id)
            elif view["status"] not in (SessionStatus.STOPPED, SessionStatus.LOGGED_OUT):
                unlinked = StatusChange(SessionStatus.STOPPED, reason="hub restarted before it was linked")
                self._set_status(session_id, unlinked)
        return restored

    def create_from_file(self, path: str) -> list[str]:
        """Create the sessions listed in sessions.config.json that do not exist yet, and start all of them."""
        file = Path(path)
        if not file.exists():
            return []
        entries = json.loads(file.read_text())
        entries = entries.get("sessions", []) if isinstance(entries, dict) else entries
        created = []
        for entry in entries:
            entry = {"sessionId": entry} if isinstance(entry, str) else entry
            session_id = entry.get("sessionId") or entry.get("id")
            if not self.exists(session_id):
                self.create(session_id, entry.get("description", ""), entry.get("engine"))
                created.append(session_id)
            self.start(session_id)  # every boot: connected when linked, else showing a QR
        return created

    # -- the engines' sink -----------------------------------------------------------------
    def on_event(self, session_id: str, event) -> None:
        """A neonize protobuf event from `session_id`'s engine."""
        try:
            live = self._live.get(session_id)
            result = map_event(event, resolve_lid=live.engine.phone_of_lid if live else None)
            if isinstance(result, HubEventDraft) and result.decrypt == "poll-vote":
                result = self._decrypted_vote(session_id, result, live.engine if live else None)
            if isinstance(result, HubEventDraft):
                inbound.ingest(self, session_id, result)
            elif isinstance(result, StatusChange):
                self._apply(session_id, result)
        except Exception:
            log.exception("session %s: handling %s failed", session_id, type(event).__name__,
                          extra={"sessionId": session_id})

    def _decrypted_vote(self, session_id: str, draft: HubEventDraft, engine: Engine | None) -> HubEventDraft:
        """A poll vote with its options' text (goneonize DecryptPollVote; option names from the poll's event)."""
        if engine is None:
            return complete_poll_vote(draft, None, [], "the session stopped before the vote could be decrypted")
        try:
            hashes = engine.decrypt_poll_vote(draft.event)
        except EngineError as exc:
            return complete_poll_vote(draft, None, [], f"the vote could not be decrypted: {exc}")
        return complete_poll_vote(draft, hashes, self.events.poll_options(session_id, draft.data["pollMessageId"]))

    def on_qr(self, session_id: str, code: str, lifetime: float = 60.0) -> None:
        """A new QR code, valid for `lifetime` seconds (WhatsApp: 60 s for the first, 20 s for each later one)."""
        live = self._live.get(session_id)
        if live is None:
            return
        live.qr, live.qr_expires_at = code, utcnow() + timedelta(seconds=lifetime)
        self._set_status(session_id, StatusChange(SessionStatus.QR))
        self.events.record("qr", session_id, {"qr": code, "expiresAt": isoformat(live.qr_expires_at)},
                           sandbox=live.engine.name == "sandbox")

    def on_connect_failed(self, session_id: str, reason: str) -> None:
        """Dialling failed: retry later (network), or stop for good (unreadable store, QR timeout)."""
        self._apply(session_id, connect_failure(reason))

    # -- internals -------------------------------------------------------------------------
    def _apply(self, session_id: str, change: StatusChange) -> None:
        live = self._live.get(session_id)
        dropped = change.status == SessionStatus.DISCONNECTED and change.reconnect
        if dropped and live and live.engine.reconnects_itself():
            watching = StatusChange(SessionStatus.DISCONNECTED, reason=f"{change.reason}; whatsmeow is reconnecting",
                                    reconnect=False)
            self._set_status(session_id, watching)
            self._schedule_reconnect(session_id, WHATSMEOW_RECONNECT_WATCHDOG)  # one owner: ours only if it gives up
            return
        retrying = change.status == SessionStatus.DISCONNECTED and change.reconnect and live is not None
        if change.status in SESSION_DOWN and not retrying:
            self._let_go(session_id, forget=change.status == SessionStatus.LOGGED_OUT and change.forget_credentials)
        delay = self._set_status(session_id, change, retrying)
        if delay is not None:
            self._schedule_reconnect(session_id, delay)

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

    def _schedule_reconnect(self, session_id: str, delay: float) -> None:
        live = self._live.get(session_id)
        if live is None:
            return
        live.cancel_reconnect()
        timer = threading.Timer(delay, self._reconnect, args=(session_id,))
        timer.daemon = True
        live.reconnect_timer = timer
        timer.start()

    def _reconnect(self, session_id: str) -> None:
        live = self._live.get(session_id)
        if live is None:
            return
        live.reconnect_timer = None
        try:
            self.start(session_id, retry=True)
        except Exception:
            log.exception("session %s: reconnect failed", session_id, extra={"sessionId": session_id})

    def _set_status(self, session_id: str, change: StatusChange, retrying: bool = False) -> float | None:
        """Persist a status change; record a session-status event when status or reason changed.

        Returns the delay before the next reconnect when `retrying` (attempts and the time of
        the next try are stored for the session view), else None.
        """
        try:
            with self.store.session() as db:
                row = self._row(db, session_id)
                previous, previous_reason = row.status, row.last_error
                delay = self._update_row(row, change, retrying)
                sandbox = row.engine == "sandbox"
        finally:
            self._forget_view(session_id)
        if previous != change.status or (change.reason and change.reason != previous_reason):
            data = {"status": change.status, "previous": previous}
            if change.reason:
                data["reason"] = change.reason
            self.events.record("session-status", session_id, data, sandbox=sandbox)
        return delay

    def _update_row(self, row: Session, change: StatusChange, retrying: bool) -> float | None:
        """Apply `change` to the row; the delay before the next reconnect when `retrying`."""
        delay = None
        row.set_status(change.status, change.reason)
        row.jid = change.jid or row.jid
        row.push_name = change.push_name or row.push_name
        if change.jid:
            row.phone = change.jid.split("@")[0]
        if retrying:
            row.reconnect_attempts += 1
            delay = change.retry_after or self.backoff.delay(row.reconnect_attempts)
            row.next_retry_at = utcnow() + timedelta(seconds=delay)
        elif change.status in SESSION_DOWN or change.status == SessionStatus.STARTING:  # a new cycle, or none at all
            row.reconnect_attempts, row.next_retry_at = 0, None
        return delay

    def _row(self, db, session_id: str) -> Session:
        row = db.get(Session, session_id)
        if row is None:
            raise NotFound(f"Session '{session_id}' does not exist.", code="session_not_found")
        return row

    def _new_engine(self, session_id: str, engine: str) -> Engine:
        """A NeonizeEngine; a sandbox session's talks to the simulated WhatsApp instead of Go."""
        try:
            from hub.sessions.neonize_engine import NeonizeEngine
        except ImportError as exc:
            raise Unavailable(f"The neonize engine cannot be loaded: {exc}", code="engine_unavailable") from exc
        library = self.simulator().library if engine == "sandbox" else None
        return NeonizeEngine(session_id, self.store_dir(session_id), self, self.config, library=library)

    @staticmethod
    def _quietly(call, session_id: str) -> None:
        try:
            call()
        except Exception:
            log.exception("session %s: %s failed", session_id, getattr(call, "__name__", "call"),
                          extra={"sessionId": session_id})
