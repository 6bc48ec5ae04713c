"""Storing a validated send: one row in `outbound`, claimed to send at once or queued behind the others.

Every accepted send is a row before anything goes to WhatsApp, so a crash or a restart loses
nothing. Rows are written through the group-commit writer (hub/store/group.py), many sends per
transaction.
"""
from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from hub.context import HubContext
from hub.outbound.idempotency import find_by_key
from hub.outbound.limits import reserve
from hub.outbound.request import SendRequest, ValidatedSend
from hub.sessions.engine import Engine
from hub.store import Outbound
from hub.store.ids import new_id
from hub.store.messages import OutboundStatus
from hub.store.models import SessionStatus, insert_all

# Built once: building a statement costs more than running it.
QUEUED_AHEAD = select(Outbound.seq).where(Outbound.session_id == bindparam("session_id"),
                                          Outbound.status == OutboundStatus.QUEUED).limit(1)


def store(context: HubContext, validated: ValidatedSend, request: SendRequest) -> tuple[Outbound, Engine | None]:
    """Insert the row: claimed for sending now (connected, nothing queued ahead) or queued."""
    status = context.sessions.peek(validated.session_id)["status"]  # 404 if unknown; a cached view
    try:
        return context.store.writes.run_many(insert_sends, (context, validated, request, status))
    except IntegrityError:  # the same Idempotency-Key raced us: answer with the first request's row
        earlier = find_by_key(context, request)
        if earlier is None:
            raise
        return earlier, None


def insert_sends(db, sends: list[tuple]) -> list[tuple[Outbound, Engine | None]]:
    """Bulk write of (context, validated send, request, session status): rows claimed to send now or queued."""
    queued_ahead: dict[str, bool] = {}  # by session: probed once for the whole run of sends
    stored = []
    for context, validated, request, status in sends:
        row = new_row(validated, request)  # built here: a grouped write may run twice
        engine = None if request.queue_only else engine_for_now(context, db, validated, status, queued_ahead)
        if engine is None:
            queued_ahead[validated.session_id] = True  # the sends behind this one wait for it
        else:
            row.claim()
        stored.append((row, engine))
    insert_all(db, [row for row, _ in stored])  # the API answers from the rows, the sender settles them
    return stored


def new_row(validated: ValidatedSend, request: SendRequest) -> Outbound:
    """The outbound row of a validated send (not stored yet)."""
    attachment = validated.attachment
    return Outbound(id=new_id("out"), session_id=validated.session_id, to=validated.to, type=validated.type,
                    text=validated.text, file_name=attachment.filename if attachment else None,
                    mimetype=attachment.mimetype if attachment else None,
                    payload=attachment.data if attachment else None, content=validated.content,
                    idempotency_key=request.idempotency_key,
                    request_hash=request.fingerprint() if request.idempotency_key else None,
                    **(validated.target.columns() if validated.target else {}))


def engine_for_now(context: HubContext, db, validated: ValidatedSend, session_status: str,
                   queued_ahead: dict) -> Engine | None:
    """The engine to send with right away, or None: offline, messages queued ahead, or paced (its limits)."""
    engine = context.sessions.connected_engine(validated.session_id)
    if engine is None or session_status != SessionStatus.CONNECTED:  # connected when the send came in, too
        return None
    if validated.session_id not in queued_ahead:
        waiting = db.connection().scalar(QUEUED_AHEAD, {"session_id": validated.session_id})
        queued_ahead[validated.session_id] = waiting is not None
    if queued_ahead[validated.session_id]:
        return None
    return engine if reserve(context, db, validated.session_id, validated.to, max_wait=0.0) <= 0 else None
