"""Inbound media: record the message, download through the engine, store the file, record the event.

The message (history row + a `downloading` media row holding what a retry needs) is committed
before the download starts, so a restart mid-download loses nothing: `retry_interrupted` picks
those rows up again. The engine acknowledges the message to WhatsApp once that commit is done;
the download runs in its own greenlet, so later messages never wait behind it. A failed
download never stops the event: it goes out with `media.error`.
"""
from __future__ import annotations

import logging
from datetime import datetime

import gevent
from gevent.event import Event as GreenEvent
from neonize.proto.waE2E import WAWebProtobufsE2E_pb2 as E
from sqlalchemy import select

from hub.media import storage
from hub.media.names import original_name
from hub.media.stores import media_store
from hub.sessions import builders
from hub.sessions.engine import Engine, EngineError
from hub.sessions.mapping import HubEventDraft
from hub.store import MediaFile, Message, Session
from hub.store.ids import new_id
from hub.store.messages import MediaStatus
from hub.store.models import utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3  # downloads of one file (the first plus retries after restarts)


def content_message(media) -> E.Message:
    """Wrap a media protobuf (ImageMessage, DocumentMessage, ...) back into a waE2E Message."""
    for field in E.Message.DESCRIPTOR.fields:
        if field.message_type is media.DESCRIPTOR:
            return E.Message(**{field.name: media})
    raise ValueError(f"no Message field holds a {media.DESCRIPTOR.name}")


_recorded: dict[tuple[str, str], GreenEvent] = {}  # (session, message id) -> set once its event is recorded


def install(sessions) -> None:
    """Make the session manager hand media messages to `receive` (sessions never import media)."""
    sessions.media_handler = receive


def receive(sessions, session_id: str, draft: HubEventDraft) -> None:
    """Commit the message now; download its media and record its event in a greenlet of its own."""
    from hub.sessions.inbound import already_stored

    with sessions.store.session() as db:
        if already_stored(db, session_id, draft.data.get("messageId")):
            return  # WhatsApp delivered it again; the first delivery's download (or its retry) finishes it
    media_id = begin(sessions.store, session_id, draft)
    _recorded.setdefault((session_id, draft.data.get("messageId") or ""), GreenEvent())
    gevent.spawn(finish, sessions, media_id, sessions.connected_engine(session_id))


def wait_recorded(session_id: str, message_id: str, timeout: float) -> bool:
    """Until the event of a media message is recorded (True), or `timeout` seconds passed."""
    waiter = _recorded.get((session_id, message_id))
    return waiter is None or waiter.wait(timeout)


def begin(store, session_id: str, draft: HubEventDraft) -> str:
    """Commit the history row and a `downloading` media row (before any download starts)."""
    described = draft.data.get("media") or {}
    kind = described.get("kind") or draft.data.get("type")
    name = original_name(described.get("originalName"), kind, described.get("mimetype"),
                         parse_timestamp(draft.data.get("timestamp")))
    with store.session() as db:
        message = Message.from_event(session_id, draft.data)
        row = MediaFile(id=new_id("med"), session_id=session_id, message_row_id=message.id,
                        kind=kind, mimetype=described.get("mimetype"), original_name=name, event_type=draft.type,
                        content=content_message(draft.media).SerializeToString(), event_data=draft.data)
        db.add(message)
        db.flush()  # the media row references the message row
        db.add(row)
        return row.id


def parse_timestamp(text: str | None) -> datetime | None:
    """The event's ISO timestamp as a datetime (None when absent or unreadable)."""
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None
    except ValueError:
        return None


def finish(sessions, media_id: str, engine: Engine | None, refused: str | None = None) -> dict:
    """Download, store and describe the file (unless `refused` says why not), then record the event."""
    with sessions.store.session() as db:
        row = db.get(MediaFile, media_id)
        event_type, data, event = row.event_type, dict(row.event_data), rebuild_event(row)
        declared = (data.get("media") or {}).get("fileSize") or 0
    stored, error = (None, refused) if refused else fetch(engine, event, declared, sessions.config)
    with sessions.store.session() as db:
        row = db.get(MediaFile, media_id)
        if stored:
            row.mark_stored(stored.name, stored.size, stored.sha256)
        else:
            row.mark_failed(error)
        data["media"] = row.describe(sessions.config.public_url)
        db.get(Message, row.message_row_id).media = data["media"]
        session = db.get(Session, row.session_id)
        sandbox = session is not None and session.engine == "sandbox"
        envelope = sessions.events.record(event_type, row.session_id, data, sandbox=sandbox)
    waiter = _recorded.pop((row.session_id, data.get("messageId") or ""), None)
    if waiter is not None:
        waiter.set()
    return envelope


def rebuild_event(row: MediaFile):
    """The MessageEv to hand to `engine.download_media` (built from what the row kept)."""
    data = row.event_data
    spec = builders.MessageSpec(chat=data["chatId"], sender=data["from"], from_me=bool(data.get("fromMe")),
                                is_group=bool(data.get("isGroup")), message_id=data["messageId"])
    return builders.message_event(E.Message.FromString(row.content), spec)


def fetch(engine: Engine | None, event, declared: int, config) -> tuple[storage.StoredFile | None, str | None]:
    """(stored file, None) or (None, why not): size-limited, with HUB_MEDIA_TIMEOUT."""
    limit = config.max_media_bytes
    try:
        if engine is None:
            raise EngineError("the session is not running, so the media cannot be downloaded")
        if declared > limit:
            raise EngineError(f"the file is {declared} bytes; the limit is {limit} (HUB_MAX_MEDIA_MB)")
        data = call_with_timeout(lambda: engine.download_media(event), config.media_timeout)
        if len(data) > limit:
            raise EngineError(f"the file is {len(data)} bytes; the limit is {limit} (HUB_MAX_MEDIA_MB)")
        return media_store(config).save(data, media_mimetype(event)), None
    except EngineError as exc:
        return None, str(exc)
    except Exception as exc:  # a media failure must never stop the event
        log.exception("media download failed")
        return None, f"download failed: {type(exc).__name__}: {exc}"


def media_mimetype(event) -> str | None:
    from hub.sessions.mapping import content_of

    media = content_of(event.Message)[3]
    return media.mimetype if media is not None else None


def call_with_timeout(call, timeout: float):
    """`call()` with a deadline for the whole call; EngineError when it takes too long."""
    try:
        return gevent.with_timeout(timeout, call)
    except gevent.Timeout:
        raise EngineError(f"the download took longer than {timeout:g} s (HUB_MEDIA_TIMEOUT)") from None


def retry_interrupted(sessions, started_before: datetime) -> int:
    """Finish downloads a restart (or a crash) cut short; returns how many were finished."""
    with sessions.store.session() as db:
        rows = db.scalars(select(MediaFile.id).where(MediaFile.status == MediaStatus.DOWNLOADING,
                                                     MediaFile.started_at < started_before)).all()
    return sum(1 for media_id in rows if _retry(sessions, media_id, started_before))


def _retry(sessions, media_id: str, started_before: datetime) -> bool:
    """Download one interrupted file again once its session is connected, or give up on it."""
    with sessions.store.session() as db:
        row = db.get(MediaFile, media_id)
        if row.status != MediaStatus.DOWNLOADING or row.started_at >= started_before:
            return False  # finished, or taken by another retry meanwhile
        refused = _give_up_reason(sessions, row)
        engine = _connected_engine(sessions, row.session_id)
        if engine is None and refused is None:
            return False  # wait until the session is connected again
        row.restart_download()
    finish(sessions, media_id, engine, refused)
    return True


def _give_up_reason(sessions, row: MediaFile) -> str | None:
    if not sessions.exists(row.session_id):
        return "the session was deleted before the download finished"
    if row.attempts >= MAX_ATTEMPTS:
        return f"the download was interrupted {row.attempts} times"
    age = (utcnow() - row.created_at).total_seconds()
    if age > sessions.config.outbound_max_age:
        return "the session stayed offline too long to download the file"
    return None


def _connected_engine(sessions, session_id: str) -> Engine | None:
    if not sessions.exists(session_id):
        return None
    return sessions.connected_engine(session_id)
