"""A session's send limits against its history: new contacts, the daily cap, the wait before a send, the drain estimate.

The pace itself is booked by the Pacer (pacing.py). What needs the database is here, each an index
probe run only for sessions that set the limit: whether a number was ever talked to
(ix_messages_session_chat_time), and the send that opened the current 24-hour window
(ix_outbound_session_status, newest first).
"""
from __future__ import annotations

import math
from datetime import timedelta

from sqlalchemy import bindparam, distinct, exists, func, select

from hub.context import HubContext
from hub.outbound.pacing import SendLimits
from hub.outbound.settle import view_of
from hub.store import Message, Outbound, utcnow
from hub.store.messages import WAITING, OutboundStatus
from hub.store.models import isoformat

DAY = 86400.0
MAX_SLEEP = 30.0  # a longer wait puts the message back in the queue until then, instead of a sleeping drain

# Built once: building a statement costs more than running it.
TALKED_TO = exists().where(Message.session_id == bindparam("session_id"), Message.chat_id == bindparam("to"))
NTH_LATEST_SENT = (select(Outbound.sent_at).where(Outbound.session_id == bindparam("session_id"),
                                                  Outbound.status == OutboundStatus.SENT)
                   .order_by(Outbound.seq.desc()).offset(bindparam("offset")).limit(1))


def limits_of(context: HubContext, session_id: str) -> SendLimits:
    """The session's limits (HUB_SEND_INTERVAL alone once it was deleted)."""
    session = view_of(context, session_id)
    return SendLimits.of(session["settings"] if session else {}, context.config.send_interval)


def is_new_contact(db, session_id: str, to: str) -> bool:
    """A number the session never talked to (no message either way); groups are not contacts."""
    if to.endswith("@g.us"):
        return False
    return not db.scalar(select(TALKED_TO), {"session_id": session_id, "to": to})


def daily_wait(db, session_id: str, limit: int | None) -> float:
    """Seconds until the last 24 hours hold fewer than `limit` sends (0: room now)."""
    if not limit:
        return 0.0
    opened = db.scalar(NTH_LATEST_SENT, {"session_id": session_id, "offset": limit - 1})
    if opened is None:
        return 0.0
    return max(0.0, (opened - utcnow()).total_seconds() + DAY)


def reserve(context: HubContext, db, session_id: str, to: str, max_wait: float) -> float:
    """Seconds until the session may send to `to`; the slot is booked when that is within `max_wait`."""
    limits = limits_of(context, session_id)
    if not limits.paced:
        return 0.0
    new_contact = bool(limits.new_contact_interval) and is_new_contact(db, session_id, to)
    not_before = daily_wait(db, session_id, limits.daily_limit)
    return context.pacer.reserve(session_id, limits, new_contact, not_before, max_wait)


def wait_turn(context: HubContext, row: Outbound) -> bool:
    """Before sending a claimed row: sleep until its slot (True), or put it back in the queue until then (False)."""
    with context.store.session() as db:
        wait = reserve(context, db, row.session_id, row.to, MAX_SLEEP)
        if wait > MAX_SLEEP:  # durable: the worker's poll finds it due then, and the ones behind it wait
            row.postpone(wait)
            row.save_state(db)
    if wait > 0:
        context.metrics.paced.labels(row.session_id).inc()
    if wait > MAX_SLEEP:
        return False
    context.pacer.sleep(wait)
    return True


def with_queue(context: HubContext, view: dict) -> dict:
    """A session view with its queue: {..., "queue": {waiting, drainSeconds, drainsAt}}."""
    return {**view, "queue": queue_estimate(context, view["sessionId"])}


def queue_estimate(context: HubContext, session_id: str) -> dict:
    """How long the session's queue takes to drain at its pace once connected: {waiting, drainSeconds, drainsAt}."""
    limits = limits_of(context, session_id)
    with context.store.session() as db:
        waiting = db.scalar(select(func.count()).where(Outbound.session_id == session_id,
                                                       Outbound.status.in_(WAITING)))
        seconds = context.pacer.wait(session_id) + max(0, waiting - 1) * limits.interval
        new_contacts = new_contacts_waiting(db, session_id) if limits.new_contact_interval else 0
        if new_contacts:
            first = context.pacer.wait(session_id, new_contact=True)
            seconds = max(seconds, first + (new_contacts - 1) * limits.new_contact_interval)
        if limits.daily_limit:
            seconds = max(seconds, daily_drain(db, session_id, limits.daily_limit, waiting))
    return {"waiting": waiting, "drainSeconds": round(seconds, 1),
            "drainsAt": isoformat(utcnow() + timedelta(seconds=seconds))}


def new_contacts_waiting(db, session_id: str) -> int:
    """Distinct numbers in the queue that the session never talked to."""
    talked = exists().where(Message.session_id == session_id, Message.chat_id == Outbound.to)
    return db.scalar(select(func.count(distinct(Outbound.to))).where(
        Outbound.session_id == session_id, Outbound.status.in_(WAITING), ~Outbound.to.endswith("@g.us"), ~talked))


def daily_drain(db, session_id: str, limit: int, waiting: int) -> float:
    """Under the daily cap: when the last of `waiting` messages gets its turn (whole days beyond today's room)."""
    room_wait = daily_wait(db, session_id, limit)
    if room_wait == 0.0 and waiting <= limit:
        return 0.0
    return room_wait + (math.ceil(waiting / limit) - 1) * DAY
