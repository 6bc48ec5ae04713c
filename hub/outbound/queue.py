"""The queue's upkeep: drain a session's queue in order, find due sessions, expire old sends, requeue at start-up.

A session's queue drains strictly in order: a message waiting for its retry holds back the ones
behind it. A send interrupted mid-call is sent again after a restart (at-least-once).
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import bindparam, exists, select, update
from sqlalchemy.orm import undefer

from hub.context import HubContext
from hub.outbound.limits import wait_turn
from hub.outbound.settle import record_outcomes, send_claimed
from hub.store import Outbound, Session, utcnow
from hub.store.messages import WAITING, OutboundStatus

# Built once: building a statement costs more than running it.
QUEUE_HEAD = select(Outbound).options(undefer(Outbound.payload)).where(
    Outbound.session_id == bindparam("session_id"), Outbound.status.in_(WAITING)).order_by(Outbound.seq).limit(1)


def drain(context: HubContext, session_id: str) -> int:
    """Send the session's queued messages in order while it stays connected; returns how many were sent."""
    sent = 0
    while True:
        engine = context.sessions.connected_engine(session_id)
        claimed = claim_next(context, session_id) if engine else None
        if claimed is None or not wait_turn(context, claimed):
            return sent  # nothing due, or the head waits for its turn under the session's limits
        if send_claimed(context, claimed, engine).status != OutboundStatus.SENT:
            return sent  # it waits for its retry; the ones behind it wait with it
        sent += 1


def claim_next(context: HubContext, session_id: str) -> Outbound | None:
    """Claim the session's oldest queued message if it is due (never one behind it), with its payload."""
    with context.store.session() as db:
        head = db.scalar(QUEUE_HEAD, {"session_id": session_id})
        if head is None or head.status != OutboundStatus.QUEUED or head.next_attempt_at > utcnow():
            return None
        db.expunge(head)  # written with one conditional Core UPDATE below, not by the unit of work
        # In a cluster only the lease's holder sends (a process resuming after a pause may not hold it any more).
        if not context.node.fence(db, session_id) or not head.take(db):
            return None
        return head


def sessions_with_due_messages(context: HubContext) -> list[str]:
    """Sessions with a queued message due now: one index probe per session, however long the queues."""
    due = exists().where(Outbound.session_id == Session.id, Outbound.status == OutboundStatus.QUEUED,
                         Outbound.next_attempt_at <= utcnow())
    with context.store.session() as db:
        return list(db.scalars(select(Session.id).where(due)))


def expire(context: HubContext) -> int:
    """Give up on queued messages older than HUB_OUTBOUND_MAX_AGE (message-failed); returns how many."""
    cutoff = utcnow() - timedelta(seconds=context.config.outbound_max_age)
    with context.store.session() as db:
        old = select(Outbound).where(Outbound.status == OutboundStatus.QUEUED, Outbound.created_at < cutoff)
        rows = list(db.scalars(old))
        for row in rows:
            row.mark_failed(f"not sent within HUB_OUTBOUND_MAX_AGE ({context.config.outbound_max_age:g} s)"
                            + (f"; last error: {row.error}" if row.error else ""))
        record_outcomes(context, rows)
    return len(rows)


def requeue_interrupted(context: HubContext, session_id: str | None = None) -> int:
    """Sends cut short by a stop or crash go back to the queue (sent again: at-least-once); how many.

    At start-up of a single hub every session's; in a cluster only a session this process just took
    over (the process that was sending it is gone or has stopped it), never one another process sends.
    """
    interrupted = update(Outbound).where(Outbound.status == OutboundStatus.SENDING)
    if session_id is not None:
        interrupted = interrupted.where(Outbound.session_id == session_id)
    with context.store.session() as db:
        return db.execute(interrupted.values(status=OutboundStatus.QUEUED)).rowcount
