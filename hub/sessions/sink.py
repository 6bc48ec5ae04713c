"""The engines' sink: what a session's engine reports (events, QR codes, failed dials) becomes
status changes, redials and hub events.

A failure while handling one session's report is logged with the session id and never reaches
the engine, another session, or the process.
"""
from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import timedelta

from neonize.proto import Neonize_pb2 as N

from hub.backoff import Backoff
from hub.events import EventLog
from hub.sessions import history, inbound
from hub.sessions.engine import Engine, EngineError
from hub.sessions.group_events import GROUP_EVENTS, map_group_event
from hub.sessions.lids import LidStore
from hub.sessions.live import WHATSMEOW_RECONNECT_WATCHDOG, LiveSession
from hub.sessions.mapping import HubEventDraft, StatusChange, complete_poll_vote, connect_failure, map_event
from hub.sessions.status import StatusRecorder
from hub.store import utcnow
from hub.store.models import SESSION_DOWN, SessionStatus, isoformat

log = logging.getLogger(__name__)


class SessionSink:
    """The `EngineSink` half of the SessionManager, which provides what is declared here."""

    _live: dict[str, LiveSession]
    events: EventLog
    statuses: StatusRecorder
    backoff: Backoff
    start: Callable[..., dict]
    _let_go: Callable[[str, bool], None]
    lids: LidStore
    call_handler: Callable[[str, HubEventDraft], object] | None

    def on_event(self, session_id: str, event) -> None:
        """A neonize protobuf event from `session_id`'s engine."""
        try:
            live = self._live.get(session_id)
            resolver = self.lid_resolver(session_id)
            if isinstance(event, N.HistorySync):
                history.accept(self, session_id, event)
                return
            if isinstance(event, N.PairStatus) and event.Status == N.PairStatus.SUCCESS:
                history.linked(self, session_id)
            if isinstance(event, GROUP_EVENTS):
                for draft in map_group_event(event, resolver):
                    inbound.ingest(self, session_id, draft)
                return
            result = map_event(event, resolve_lid=resolver)
            if isinstance(result, HubEventDraft) and result.decrypt == "poll-vote":
                result = self._decrypted_vote(session_id, result, live.engine if live else None)
            if isinstance(result, HubEventDraft):
                self.lids.learn_from(result.data)
            if isinstance(result, HubEventDraft) and result.type == "call-received" and self.call_handler:
                self.call_handler(session_id, result)
            elif isinstance(result, HubEventDraft):
                inbound.ingest(self, session_id, result)
            elif isinstance(result, StatusChange):
                self._apply(session_id, result)
        except Exception:
            log.exception("session %s: handling %s failed", session_id, type(event).__name__,
                          extra={"sessionId": session_id})

    def lid_resolver(self, session_id: str):
        """What maps a LID of the session's events to its phone JID (stored mappings, then whatsmeow's store)."""
        live = self._live.get(session_id)
        return functools.partial(self.resolve_lid, live.engine if live else None)

    def resolve_lid(self, engine: Engine | None, lid: str) -> str | None:
        """A LID's phone JID: a stored mapping, else whatsmeow's LID store (then stored too)."""
        phone = self.lids.phone_of(lid)
        if phone is None and engine is not None:
            phone = engine.phone_of_lid(lid)
            self.lids.remember(lid, phone, "store")
        return phone

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
        self.statuses.save(session_id, StatusChange(SessionStatus.QR), fenced=True)
        self.events.record("qr", session_id, {"qr": code, "expiresAt": isoformat(live.qr_expires_at)},
                           sandbox=live.engine.name == "sandbox")

    def on_connect_failed(self, session_id: str, reason: str) -> None:
        """Dialling failed: retry later (network), or stop for good (unreadable store, QR timeout)."""
        self._apply(session_id, connect_failure(reason))

    def _apply(self, session_id: str, change: StatusChange) -> None:
        """Save a reported status change; watch whatsmeow's own reconnect, schedule ours, or let the session go."""
        live = self._live.get(session_id)
        if live is None:
            # The engine was stopped here (stop, logout, hand-over): its late reports ("connection
            # closed") must not overwrite what the stop saved, nor a new holder's status.
            log.debug("session %s: %s reported after its engine stopped, ignored", session_id, change.status)
            return
        dropped = change.status == SessionStatus.DISCONNECTED and change.reconnect
        if dropped and live and live.engine.reconnects_itself():
            watching = StatusChange(SessionStatus.DISCONNECTED, reason=f"{change.reason}; whatsmeow is reconnecting",
                                    reconnect=False)
            self.statuses.save(session_id, watching, fenced=True)
            self._schedule_reconnect(session_id, WHATSMEOW_RECONNECT_WATCHDOG)  # one owner: ours only if it gives up
            return
        retrying = dropped
        if change.status in SESSION_DOWN and not retrying:
            self._let_go(session_id, forget=change.status == SessionStatus.LOGGED_OUT and change.forget_credentials)
        delay = self.statuses.save(session_id, change, self.backoff.delay if retrying else None, fenced=True)
        if delay is not None:
            self._schedule_reconnect(session_id, delay)

    def _schedule_reconnect(self, session_id: str, delay: float) -> None:
        live = self._live.get(session_id)
        if live is not None:
            live.schedule_reconnect(delay, lambda: self._reconnect(session_id))

    def _reconnect(self, session_id: str) -> None:
        live = self._live.get(session_id)
        if live is None:
            return
        live.reconnect_timer = None
        try:
            self.start(session_id, retry=True)
        except Exception:
            log.exception("session %s: reconnect failed", session_id, extra={"sessionId": session_id})
