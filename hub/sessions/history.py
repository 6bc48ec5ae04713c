"""WhatsApp's history sync (README.md, "History"): kept for sessions with `syncHistory`.

When a device links, WhatsApp sends the existing conversations as whatsmeow `events.HistorySync`
(goneonize HistorySyncEv: a `waHistorySync.HistorySync`, in several chunks with a `progress`).
Whether they are kept is decided at the link (`Session.begin_history`): changing `syncHistory`
during a sync applies to the next link.

- A chunk is stored whole (one row) before the callback returns, so WhatsApp's acknowledgement
  never comes before it is durable; a hub that dies mid-sync resumes where it stopped.
- One greenlet per session works through the stored chunks in batches of `BATCH` messages: each
  batch stores its messages (de-duplicated by WhatsApp message id: a message seen live or in an
  earlier sync is not stored twice) and their `message-history` events in one transaction, oldest
  first within each chat, then yields at least as long as the batch took (and `PAUSE`), so a
  large sync takes at most half of the hub and live events keep their latency.
- Messages are parsed as whatsmeow's `Client.ParseWebMessage` does (chat from the conversation,
  sender from the key, own messages from the session's own JID) and mapped like live ones.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import gevent
from neonize.proto import Neonize_pb2 as N
from neonize.proto.waHistorySync.WAWebProtobufsHistorySync_pb2 import HistorySync
from sqlalchemy import delete, select

from hub.sessions import builders
from hub.sessions.mapping import Resolver, bare_jid, map_message
from hub.store import HistoryChunk, Message, Session
from hub.store.models import insert_all

log = logging.getLogger(__name__)

BATCH = 50  # messages per transaction
PAUSE = 0.01  # seconds the worker yields between batches (live events go first)
HISTORY_EVENT = "message-history"


def linked(manager, session_id: str) -> None:
    """A device linked: decide (from syncHistory now) whether its history sync is kept, and start counting."""
    with manager.store.session() as db:
        db.get(Session, session_id).begin_history()
        forget(db, session_id)  # an older link's unfinished sync is not this device's history
    manager.rows.forget(session_id)


def accept(manager, session_id: str, event: N.HistorySync) -> None:
    """Store a HistorySync chunk (before WhatsApp is acknowledged) when this link's sync is kept; work it off later."""
    with manager.store.session() as db:
        if not db.get(Session, session_id).history_sync:
            return
        db.add(HistoryChunk(session_id=session_id, payload=event.Data.SerializeToString(),
                            progress=event.Data.progress or 0))
    manager.history.wake(session_id)


def forget(db, session_id: str) -> None:
    """SessionManager.on_delete: a deleted session's unfinished chunks go with it."""
    db.execute(delete(HistoryChunk).where(HistoryChunk.session_id == session_id))


class HistoryWorker:
    """One greenlet per session with stored chunks, working through them in batches."""

    def __init__(self, manager, batch: int = BATCH, pause: float = PAUSE):
        self.manager = manager
        self.batch = batch
        self.pause = pause
        self._workers: dict[str, gevent.Greenlet] = {}

    def wake(self, session_id: str) -> None:
        """Work through the session's chunks (a greenlet already doing it picks the new one up)."""
        worker = self._workers.get(session_id)
        if worker is None or worker.dead:
            self._workers[session_id] = gevent.spawn(self._drain, session_id)

    def resume_all(self) -> None:
        """At start-up: every session with unfinished chunks (the hub stopped mid-sync)."""
        with self.manager.store.session() as db:
            pending = set(db.scalars(select(HistoryChunk.session_id).where(HistoryChunk.finished.is_(False))))
        for session_id in pending:
            self.wake(session_id)

    def _drain(self, session_id: str) -> None:
        try:
            while (chunk := self._next_chunk(session_id)) is not None:
                self._work_through(session_id, *chunk)
        except Exception:
            log.exception("session %s: history sync failed", session_id, extra={"sessionId": session_id})

    def _next_chunk(self, session_id: str) -> tuple[int, bytes, int, int] | None:
        with self.manager.store.session() as db:
            chunk = db.scalars(select(HistoryChunk).where(HistoryChunk.session_id == session_id,
                                                          HistoryChunk.finished.is_(False))
                               .order_by(HistoryChunk.seq).limit(1)).first()
            return (chunk.seq, chunk.payload, chunk.position, chunk.progress) if chunk else None

    def _work_through(self, session_id: str, seq: int, payload: bytes, position: int, progress: int) -> None:
        messages = chronological(HistorySync.FromString(payload))
        chats = len({chat for chat, _ in messages[position:]})
        starts = range(position, len(messages), self.batch) if position < len(messages) else [position]
        for start in starts:  # an empty chunk still gets its one (empty) batch: it is finished then
            batch = Batch(seq, messages[start:start + self.batch], len(messages), progress,
                          chats=chats if start == position else 0)
            began = time.monotonic()
            self._store_batch(session_id, batch)
            gevent.sleep(max(self.pause, time.monotonic() - began))  # at most half of the hub's time

    def _store_batch(self, session_id: str, batch: Batch) -> None:
        """One transaction: the batch's new messages and their events, the chunk's position, the session's counts."""
        resolver = self.manager.lid_resolver(session_id)
        sandbox = self.manager.engine_name(session_id) == "sandbox"
        own = self.manager.rows.peek(session_id).get("jid") or ""

        mapped = [draft for draft in (history_draft(chat, web, resolver, own) for chat, web in batch.messages) if draft]

        def write(db) -> None:
            drafts = new_messages(db, session_id, mapped)
            insert_all(db, [Message.from_event(session_id, data) for data in drafts])
            if drafts:
                self.manager.events.record_many([(HISTORY_EVENT, session_id, data, sandbox) for data in drafts])
            chunk = db.get(HistoryChunk, batch.seq)
            chunk.advance(len(batch.messages), batch.total)
            row = db.get(Session, session_id)
            row.history_messages += len(drafts)
            row.history_chats += batch.chats
            row.history_done = row.history_done or (chunk.finished and batch.progress >= 100)
        self.manager.store.writes.run(write)
        self.manager.rows.forget(session_id)


@dataclass
class Batch:
    """Messages of one chunk stored together: (chat, WebMessageInfo) pairs, the chunk's size and progress."""

    seq: int
    messages: list
    total: int
    progress: int
    chats: int = 0  # chats the chunk adds to the session's count (told with its first batch)


def new_messages(db, session_id: str, drafts: list[dict]) -> list[dict]:
    """The drafts whose WhatsApp message id history does not hold yet (one query; repeats within the batch dropped)."""
    ids = {draft["messageId"] for draft in drafts}
    known = set(db.scalars(select(Message.message_id).where(Message.session_id == session_id,
                                                            Message.message_id.in_(ids)))) if ids else set()
    fresh = {}
    for draft in drafts:
        if draft["messageId"] not in known:
            fresh.setdefault(draft["messageId"], draft)
    return list(fresh.values())


def chronological(sync: HistorySync) -> list[tuple[str, object]]:
    """(chat, WebMessageInfo) of every conversation, in WhatsApp's conversation order, oldest first within each."""
    found = []
    for conversation in sync.conversations:
        webs = [item.message for item in conversation.messages if item.HasField("message")]
        webs.sort(key=lambda web: (web.messageTimestamp, web.key.ID))
        found.extend((conversation.ID, web) for web in webs)
    return found


def history_draft(chat: str, web, resolve_lid: Resolver | None = None, own_jid: str = "") -> dict | None:
    """A history message's `message-history` data (None for what is not a chat message: protocol, stubs)."""
    event = parse_web_message(chat, web, own_jid)
    draft = map_message(event, resolve_lid)
    if draft is None or draft.type not in ("message-received", "message-from-me"):
        return None
    return draft.data


def parse_web_message(chat: str, web, own_jid: str = "") -> N.Message:
    """whatsmeow `Client.ParseWebMessage`: a history WebMessageInfo as the MessageEv it would be live."""
    chat = chat or web.key.remoteJID
    server = chat.partition("@")[2]
    if web.key.fromMe:
        sender = bare_jid(own_jid) if own_jid else chat
    elif server in ("s.whatsapp.net", "lid"):
        sender = chat
    else:
        sender = web.participant or web.key.participant or chat
    spec = builders.MessageSpec(chat=chat, sender=bare_jid(sender), from_me=web.key.fromMe, is_group=server == "g.us",
                                push_name=web.pushName, message_id=web.key.ID, timestamp=web.messageTimestamp)
    return builders.message_event(web.message, spec)
