"""The durable send queue: accept a send (send it now or queue it), drain queues in order, give up.

Every accepted send is a row in `outbound` before anything goes to WhatsApp, so a crash or a
restart loses nothing (a send interrupted mid-call is sent again: at-least-once). A session's
queue drains strictly in order: a message waiting for its retry holds back the ones behind it.
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass
from datetime import timedelta

from sqlalchemy import bindparam, exists, select, update
from sqlalchemy.orm import undefer
from sqlalchemy.exc import IntegrityError

from hub.backoff import Backoff
from hub.context import HubContext
from hub.errors import BadRequest, Conflict, NotFound
from hub.media import payload
from hub.media.payload import Attachment
from hub.sessions.engine import Engine, EngineError, NotConnected, OutgoingMessage, SendResult
from hub.sessions.jids import normalise_jid
from hub.store import Message, Outbound, Session, utcnow
from hub.store.messages import FINAL_STATUSES, WAITING, OutboundStatus
from hub.store.models import SessionStatus
from hub.store.models import insert_all, insert_values
from hub.store.ids import new_id

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5  # engine errors before a message fails (an offline session never counts)
RETRY = Backoff(base=2.0, cap=300.0, jitter=0.0)  # after engine errors: 2, 4, 8, ... s, capped at 5 minutes
# Built once (as are the statements below): building a statement costs more than running it.
QUEUED_AHEAD = select(Outbound.seq).where(Outbound.session_id == bindparam("session_id"),
                                          Outbound.status == OutboundStatus.QUEUED).limit(1)
QUEUE_HEAD = select(Outbound).options(undefer(Outbound.payload)).where(
    Outbound.session_id == bindparam("session_id"), Outbound.status.in_(WAITING)).order_by(Outbound.seq).limit(1)


@dataclass
class MediaSpec:
    """Media as a sender gives it: exactly one of url, base64, data_url."""

    url: str | None = None
    base64: str | None = None
    data_url: str | None = None
    filename: str | None = None
    mimetype: str | None = None
    caption: str | None = None


@dataclass
class SendRequest:
    """One send, whichever route it came through."""

    to: str
    text: str | None = None
    media: MediaSpec | None = None
    session_id: str | None = None
    queue_only: bool = False
    idempotency_key: str | None = None

    def fingerprint(self) -> str:
        """A hash of what is sent, to tell a retry from a different request under the same key."""
        fields = asdict(self)
        fields.pop("idempotency_key")
        return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


@dataclass
class Draft:
    """A validated send: the session, the recipient JID, the text and the media bytes."""

    session_id: str
    to: str
    text: str | None
    attachment: Attachment | None

    @property
    def type(self) -> str:
        return self.attachment.kind if self.attachment else "text"


# -- accepting -----------------------------------------------------------------------------
def accept(context: HubContext, request: SendRequest) -> tuple[dict, int]:
    """Validate, store, and send now when the session is connected; (body, HTTP status)."""
    earlier = find_by_key(context, request)
    if earlier is not None:
        return receipt(earlier)
    draft = prepare(context, request)
    row, engine = store(context, draft, request)
    if row.status == OutboundStatus.SENDING:
        row = send_claimed(context, row, engine)
    else:
        wake_worker(context, draft.session_id)
    return receipt(row)


def find_by_key(context: HubContext, request: SendRequest) -> Outbound | None:
    """The send first made with this Idempotency-Key (409 when the key came with other content)."""
    if not request.idempotency_key:
        return None
    if len(request.idempotency_key) > 255:
        raise BadRequest("Idempotency-Key must be at most 255 characters.", code="invalid_idempotency_key")
    with context.store.session() as db:
        row = db.scalar(select(Outbound).where(Outbound.idempotency_key == request.idempotency_key))
    if row is not None and row.request_hash != request.fingerprint():
        raise Conflict("This Idempotency-Key was already used for a different request; use a new key.",
                       code="idempotency_key_reused")
    return row


def prepare(context: HubContext, request: SendRequest) -> Draft:
    """Check everything (cheap checks first, the media download last); 4xx on bad input."""
    to = normalise_jid(request.to, "to")
    session_id = resolve_session(context, request.session_id)
    text = (request.media.caption if request.media and request.media.caption else None) or request.text
    if request.media is None and not (text and text.strip()):
        raise BadRequest("Give a message text or media (or both).", code="empty_message")
    attachment = resolve_media(context.config, request.media) if request.media else None
    return Draft(session_id, to, text, attachment)


def resolve_session(context: HubContext, session_id: str | None) -> str:
    """The given session's id (404 if unknown) or, when none is given, the hub's only session's."""
    if session_id:
        return context.sessions.peek(session_id)["sessionId"]
    sessions = context.sessions.list()
    if len(sessions) == 1:
        return sessions[0]["sessionId"]
    if not sessions:
        raise NotFound("The hub has no sessions yet; create one first.", code="session_not_found")
    raise BadRequest(f"sessionId is required: the hub has {len(sessions)} sessions.", code="session_required")


def resolve_media(config, media: MediaSpec) -> Attachment:
    """Decode or download the media (size-limited); 400/413 when it cannot be used."""
    sources = [name for name in ("url", "base64", "data_url") if getattr(media, name)]
    if len(sources) != 1:
        raise BadRequest("media needs exactly one of url, base64 or dataUrl.", code="invalid_media")
    limit = config.max_media_bytes
    if media.url:
        return payload.from_url(media.url, media.mimetype, media.filename, limit, config.media_timeout,
                                config.block_private_urls)
    field = "media.base64" if media.base64 else "media.dataUrl"
    return payload.from_base64(media.base64 or media.data_url, media.mimetype, media.filename, limit, field)


def store(context: HubContext, draft: Draft, request: SendRequest) -> tuple[Outbound, Engine | None]:
    """Insert the row: claimed for sending now (connected, nothing queued ahead) or queued."""
    status = context.sessions.peek(draft.session_id)["status"]  # 404 if unknown; a cached view
    try:
        return context.store.writes.run_many(insert_sends, (context, draft, request, status))
    except IntegrityError:  # the same Idempotency-Key raced us: answer with the first request's row
        earlier = find_by_key(context, request)
        if earlier is None:
            raise
        return earlier, None


def insert_sends(db, sends: list[tuple]) -> list[tuple[Outbound, Engine | None]]:
    """Bulk write of (context, draft, request, session status): rows claimed to send now or queued."""
    queued_ahead: dict[str, bool] = {}  # by session: probed once for the whole run of sends
    stored = []
    for context, draft, request, status in sends:
        row = new_row(draft, request)  # built here: a grouped write may run twice
        engine = None if request.queue_only else engine_for_now(context, db, draft, status, queued_ahead)
        if engine is None:
            queued_ahead[draft.session_id] = True  # the sends behind this one wait for it
        else:
            row.claim()
        stored.append((row, engine))
    insert_all(db, [row for row, _ in stored])  # the API answers from the rows, the sender settles them
    return stored


def new_row(draft: Draft, request: SendRequest) -> Outbound:
    """The outbound row of a validated send (not stored yet)."""
    attachment = draft.attachment
    return Outbound(id=new_id("out"), session_id=draft.session_id, to=draft.to, type=draft.type,
                    text=draft.text, file_name=attachment.filename if attachment else None,
                    mimetype=attachment.mimetype if attachment else None,
                    payload=attachment.data if attachment else None,
                    idempotency_key=request.idempotency_key,
                    request_hash=request.fingerprint() if request.idempotency_key else None)


def engine_for_now(context: HubContext, db, draft: Draft, session_status: str, queued_ahead: dict) -> Engine | None:
    """The engine to send with right away, or None: offline, messages queued ahead, or paced."""
    live = context.sessions.live.get(draft.session_id)
    if live is None or session_status != SessionStatus.CONNECTED:
        return None
    if draft.session_id not in queued_ahead:
        waiting = db.connection().scalar(QUEUED_AHEAD, {"session_id": draft.session_id})
        queued_ahead[draft.session_id] = waiting is not None
    if queued_ahead[draft.session_id]:
        return None
    return live.engine if context.pacer.try_take(draft.session_id) else None


def receipt(row: Outbound) -> tuple[dict, int]:
    """The API answer for a send: 200 once sent (or failed), 202 while queued."""
    body = {"success": True, "id": row.id, "status": row.status}
    if row.status == OutboundStatus.SENT:
        body["messageId"] = row.message_id
        return body, 200
    if row.status == OutboundStatus.FAILED:
        body["error"] = row.error
        return body, 200
    body["status"] = OutboundStatus.QUEUED  # "sending" is a moment of "queued" for the caller
    return body, 202


# -- sending -------------------------------------------------------------------------------
def send_claimed(context: HubContext, row: Outbound, engine: Engine) -> Outbound:
    """Send a claimed row's message through `engine` and record the outcome on the row."""
    try:
        result, error = engine.send(row.to, outgoing(row)), None
    except (NotConnected, EngineError) as exc:
        result, error = None, exc
    except Exception as exc:  # an engine bug must not leave the row stuck in "sending"
        log.exception("send %s failed", row.id, extra={"outboundId": row.id})
        result, error = None, EngineError(f"{type(exc).__name__}: {exc}")
    return settle(context, row, result, error)


def outgoing(row: Outbound) -> OutgoingMessage:
    return OutgoingMessage(text=row.text, media=row.payload, mimetype=row.mimetype,
                           filename=row.file_name, kind=row.type)


def settle(context: HubContext, row: Outbound, result: SendResult | None, error: Exception | None) -> Outbound:
    """Record a send's outcome: sent (history + message-sent), back to the queue, or failed."""
    if result is not None:
        row.mark_sent(result.message_id)
    elif isinstance(error, NotConnected):
        row.requeue(str(error))
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
    insert_values(db, Message.__table__, [history_values(context, row) for row in rows if row.status == OutboundStatus.SENT])
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


# -- the queue -----------------------------------------------------------------------------
def drain(context: HubContext, session_id: str) -> int:
    """Send the session's queued messages in order while it stays connected; returns how many were sent."""
    sent = 0
    while True:
        engine = connected_engine(context, session_id)
        claimed = claim_next(context, session_id) if engine else None
        if claimed is None:
            return sent
        context.pacer.take(session_id)
        if send_claimed(context, claimed, engine).status != OutboundStatus.SENT:
            return sent  # it waits for its retry; the ones behind it wait with it
        sent += 1


def connected_engine(context: HubContext, session_id: str) -> Engine | None:
    live = context.sessions.live.get(session_id)
    if live is None or context.sessions.peek(session_id)["status"] != SessionStatus.CONNECTED:
        return None
    return live.engine


def claim_next(context: HubContext, session_id: str) -> Outbound | None:
    """Claim the session's oldest queued message if it is due (never one behind it), with its payload."""
    with context.store.session() as db:
        head = db.scalar(QUEUE_HEAD, {"session_id": session_id})
        if head is None or head.status != OutboundStatus.QUEUED or head.next_attempt_at > utcnow():
            return None
        db.expunge(head)  # written with one Core UPDATE below, not by the unit of work
        head.claim()
        head.save_state(db)
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
        rows = list(db.scalars(select(Outbound).where(Outbound.status == OutboundStatus.QUEUED, Outbound.created_at < cutoff)))
        for row in rows:
            row.mark_failed(f"not sent within HUB_OUTBOUND_MAX_AGE ({context.config.outbound_max_age:g} s)"
                            + (f"; last error: {row.error}" if row.error else ""))
        record_outcomes(context, rows)
    return len(rows)


def requeue_interrupted(context: HubContext) -> int:
    """At start-up: sends cut short by a stop or crash go back to the queue (sent again: at-least-once)."""
    with context.store.session() as db:
        result = db.execute(update(Outbound).where(Outbound.status == OutboundStatus.SENDING).values(status=OutboundStatus.QUEUED))
        return result.rowcount


def get(context: HubContext, outbound_id: str) -> dict:
    """One accepted send's state; 404 if unknown."""
    with context.store.session() as db:
        row = Outbound.by_id(db, outbound_id)
        if row is None:
            raise NotFound(f"Outbound message '{outbound_id}' does not exist.", code="outbound_not_found")
        return row.to_dict()


# -- wiring --------------------------------------------------------------------------------
def wake_worker(context: HubContext, session_id: str) -> None:
    """Tell the queue worker (when it runs: under gunicorn) that a running session has work.

    A session that is not running cannot send; its `connected` event wakes the worker later.
    """
    worker = context.outbound_worker
    if worker is not None and session_id in context.sessions.live:
        worker.wake(session_id)
