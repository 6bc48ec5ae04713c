"""Sending a claimed row through its engine and settling the outcome: sent, back in the queue, or failed.

An engine error is retried after RETRY's delay, up to MAX_ATTEMPTS; an offline session never
counts as an attempt. Outcomes are saved in bulk (state, history row, message-sent/-failed event).
"""
from __future__ import annotations

import logging

from hub.backoff import Backoff
from hub.context import HubContext
from hub.errors import NotFound
from hub.outbound.actions import late_edit
from hub.sessions.engine import Engine, EngineError, NotConnected, OutgoingMessage, SendResult
from hub.store import Message, Outbound, actions
from hub.store.messages import FINAL_STATUSES, OutboundStatus
from hub.store.models import insert_values

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5  # engine errors before a message fails (an offline session never counts)
RETRY = Backoff(base=2.0, cap=300.0, jitter=0.0)  # after engine errors: 2, 4, 8, ... s, capped at 5 minutes


def send_claimed(context: HubContext, row: Outbound, engine: Engine) -> Outbound:
    """Send a claimed row's message through `engine` and record the outcome on the row."""
    too_late = late_edit(context, row.session_id, row.target_id) if row.type == "edit" else None
    if too_late:
        return settle(context, row, None, EngineError(too_late, permanent=True))
    try:
        # To the LID when WhatsApp revealed one: the chat it keeps for that person is under the LID.
        result, error = engine.send(context.sessions.lids.send_address(row.to), outgoing(row)), None
    except (NotConnected, EngineError) as exc:
        result, error = None, exc
    except Exception as exc:  # an engine bug must not leave the row stuck in "sending"
        log.exception("send %s failed", row.id, extra={"outboundId": row.id})
        result, error = None, EngineError(f"{type(exc).__name__}: {exc}")
    return settle(context, row, result, error)


def outgoing(row: Outbound) -> OutgoingMessage:
    return OutgoingMessage(text=row.text, media=row.payload, mimetype=row.mimetype, filename=row.file_name,
                           kind=row.type, content=row.content, target_id=row.target_id,
                           target_sender=row.target_sender)


def settle(context: HubContext, row: Outbound, result: SendResult | None, error: Exception | None) -> Outbound:
    """Record a send's outcome: sent (history + message-sent), back to the queue, or failed."""
    if result is not None:
        row.mark_sent(result.message_id)
    elif isinstance(error, NotConnected):
        row.requeue(str(error))
    elif getattr(error, "permanent", False):  # the same file would fail the same way on every retry
        row.mark_failed(str(error))
    elif row.attempts >= MAX_ATTEMPTS:
        row.mark_failed(f"{error} (after {row.attempts} attempts)")
    else:
        row.requeue(str(error), RETRY.delay(row.attempts))
    context.store.writes.run_many(save_outcomes, (context, row))
    return row


def save_outcomes(db, outcomes: list[tuple]) -> list[None]:
    """Bulk write of (context, settled row): the new states, history rows and sent/failed events."""
    context = outcomes[0][0]  # one store, one context
    rows = [row for _, row in outcomes]
    Outbound.save_states(db, rows)  # the claimed rows are ours alone: no need to read them back
    sent = [row for row in rows if row.status == OutboundStatus.SENT]
    insert_values(db, Message.__table__, [history_values(context, row) for row in sent if not row.target_id])
    for row in sent:
        if row.target_id:  # an action changes its message's history row instead of adding one
            session = view_of(context, row.session_id)
            actions.apply(db, row.session_id, row.type, row.target_id, session and session["jid"], row.text,
                          row.sent_at)
    record_outcomes(context, [row for row in rows if row.status in FINAL_STATUSES])
    return [None] * len(outcomes)


def history_values(context: HubContext, row: Outbound) -> dict:
    """The history row of a sent message, sent from the session's own JID."""
    session = view_of(context, row.session_id)
    return Message.outbound_values(row, sender=session["jid"] if session else None)


def view_of(context: HubContext, session_id: str) -> dict | None:
    """The session's (cached, read-only) view, or None once it was deleted."""
    try:
        return context.sessions.peek(session_id)
    except NotFound:
        return None


def record_outcomes(context: HubContext, rows: list[Outbound]) -> None:
    """The rows' message-sent / message-failed events, in the rows' transaction."""
    drafts = []
    for row in rows:
        session = view_of(context, row.session_id)
        sandbox = session is not None and session["sandbox"]
        drafts.append((f"message-{row.status}", row.session_id, row.event_data(), sandbox))
    if drafts:
        context.events.record_many(drafts)
