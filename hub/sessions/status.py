"""A session's status changes: saved on its row and recorded as `session-status` events."""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from hub.events import EventLog
from hub.sessions.mapping import StatusChange
from hub.sessions.rows import SessionRows
from hub.store import Session, utcnow
from hub.store.models import SESSION_DOWN, SessionStatus

log = logging.getLogger(__name__)


class StatusRecorder:
    """Saves status changes of sessions and records an event whenever one is news."""

    def __init__(self, rows: SessionRows, events: EventLog, fence: Callable = lambda db, session_id: True):
        self.rows = rows
        self.events = events
        self.fence = fence  # (db, session id) -> whether this process may still write for the session


    def save(self, session_id: str, change: StatusChange, retry_delay: Callable[[int], float] | None = None,
             fenced: bool = False) -> float | None:
        """Save `change`; record a session-status event when status or reason changed.

        `retry_delay(attempt)` is given when the session will be dialled again: the attempt count
        and the time of the next try are stored for its view, and the delay is returned.
        `fenced`: an engine's report, written only while this process holds the session's lease
        (a process that lost it must not overwrite what the new holder reports).
        """
        try:
            with self.rows.store.session() as db:
                if fenced and not self.fence(db, session_id):
                    log.warning("session %s: status %s not saved: another process holds the session now",
                                session_id, change.status, extra={"sessionId": session_id})
                    return None
                row = self.rows.row(db, session_id)
                previous, previous_reason = row.status, row.last_error
                delay = apply_change(row, change, retry_delay)
                sandbox = row.engine == "sandbox"
        finally:
            self.rows.forget(session_id)
        if previous != change.status or (change.reason and change.reason != previous_reason):
            data = {"status": change.status, "previous": previous}
            if change.reason:
                data["reason"] = change.reason
            self.events.record("session-status", session_id, data, sandbox=sandbox)
        return delay


def apply_change(row: Session, change: StatusChange, retry_delay: Callable[[int], float] | None) -> float | None:
    """Apply `change` to the row; the delay before the next dial when retrying."""
    delay = None
    row.set_status(change.status, change.reason)
    row.jid = change.jid or row.jid
    row.device_jid = change.device_jid or row.device_jid
    row.push_name = change.push_name or row.push_name
    if change.jid:
        row.phone = change.jid.split("@")[0]
    if retry_delay is not None:
        row.reconnect_attempts += 1
        delay = change.retry_after or retry_delay(row.reconnect_attempts)
        row.next_retry_at = utcnow() + timedelta(seconds=delay)
    elif change.status in SESSION_DOWN or change.status == SessionStatus.STARTING:  # a new cycle, or none at all
        row.reconnect_attempts, row.next_retry_at = 0, None
    return delay
