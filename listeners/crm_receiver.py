"""python -m listeners.crm_receiver: keeps every event of one session in its own SQLite file.

At start-up (and every --check-interval seconds, in case the hub forgot it) it configures a
webhook on the session with POST /api/<sessionId>/webhook and its event filter. Each delivery's
signature is verified before anything is stored; an event is stored once, keyed by its id
(the webhook-id), so retried or replayed deliveries never duplicate a row.

Besides the event log it keeps each conversation as a CRM shows it, in `messages`: one row per
WhatsApp message (received, sent from the phone, or sent through the hub), whose text follows its
edits (the first text kept in `original_text`), which is flagged when deleted for everyone and
which carries its reactions ({who: emoji}), from `message-edited`, `message-revoked` and
`message-received` of type reaction — and from the hub's own actions (`message-sent` of type
reaction, edit or revoke). With the session setting `syncHistory`, linking the number imports its
existing conversations (`message-history`) into the same table.
"""
from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time

from listeners.client import HubClient, new_secret
from listeners.receiver import base_arguments, is_registered, parse, serve

log = logging.getLogger("crm_receiver")

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY,          -- the hub's event id = webhook-id
    type TEXT NOT NULL,
    session_id TEXT,
    chat_id TEXT,
    sender TEXT,
    text TEXT,
    timestamp TEXT,               -- when the hub recorded it
    received_at REAL NOT NULL,    -- when this receiver stored it (unix time)
    envelope TEXT NOT NULL        -- the whole verified envelope, JSON
);
CREATE TABLE IF NOT EXISTS messages (
    session_id TEXT NOT NULL,
    message_id TEXT NOT NULL,     -- WhatsApp's id
    chat_id TEXT,
    sender TEXT,
    from_me INTEGER NOT NULL,
    type TEXT,
    text TEXT,                    -- as last edited
    original_text TEXT,           -- the text before the first edit
    edited_at TEXT,
    revoked INTEGER NOT NULL DEFAULT 0,
    revoked_by TEXT,
    reactions TEXT NOT NULL DEFAULT '{}',  -- JSON {who: emoji}
    timestamp TEXT,
    PRIMARY KEY (session_id, message_id)
)"""
# A message-history is a message of WhatsApp's history sync (the session setting syncHistory): importing it
# never duplicates a message the CRM already had.
MESSAGE_EVENTS = ("message-received", "message-from-me", "message-sent", "message-history")
ACTION_TYPES = ("reaction", "edit", "revoke")  # message-sent of the hub's own actions
# The people the session talks with: their phone number (the hub gives phone JIDs whenever WhatsApp
# revealed one), the name they set, and the LID WhatsApp may address them by.
CONTACTS_SCHEMA = """
CREATE TABLE IF NOT EXISTS contacts (
    phone TEXT PRIMARY KEY,       -- digits, country code first
    jid TEXT NOT NULL,
    name TEXT,
    lid TEXT,
    updated_at REAL NOT NULL
)"""
UPSERT_CONTACT = """
INSERT INTO contacts VALUES (?, ?, ?, ?, ?)
ON CONFLICT(phone) DO UPDATE SET name = coalesce(excluded.name, name), lid = coalesce(excluded.lid, lid),
                                 updated_at = excluded.updated_at"""


class CrmStore:
    """The receiver's SQLite file; one connection shared by the request threads under a lock."""

    def __init__(self, path: str):
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(SCHEMA)
        self.db.execute(CONTACTS_SCHEMA)
        self._lock = threading.Lock()

    def add(self, event: dict) -> bool:
        """Store a verified event; False when it was stored before (a retry or replay)."""
        data = event.get("data") or {}
        row = (event["id"], event["type"], event.get("sessionId"), data.get("chatId"), data.get("from"),
               data.get("text"), event.get("timestamp"), time.time(), json.dumps(event, ensure_ascii=False))
        with self._lock, self.db:
            self.db.execute("BEGIN")
            cursor = self.db.execute("INSERT OR IGNORE INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
            if cursor.rowcount == 1:  # applied once, in the event's transaction
                self._apply(event["type"], event.get("sessionId"), data)
                self._remember_contact(data)
        return cursor.rowcount == 1

    def _remember_contact(self, data: dict) -> None:
        """The sender as a contact (name, phone, LID); the session's own messages are not."""
        contact = contact_of(data) if not data.get("fromMe") else None
        if contact:
            self.db.execute(UPSERT_CONTACT, (*contact, time.time()))

    def _apply(self, kind: str, session_id: str | None, data: dict) -> None:
        """What the event changes in the conversation (nothing for other events)."""
        action = data.get("type") if kind == "message-sent" and data.get("type") in ACTION_TYPES else None
        if kind == "message-edited" or action == "edit":
            self._edit(session_id, data.get("messageId") if not action else data.get("targetMessageId"),
                       data.get("text"), data.get("editedAt") or data.get("timestamp"))
        elif kind == "message-revoked" or action == "revoke":
            target = data.get("targetMessageId") if action else data.get("messageId")
            self._update(session_id, target, "revoked = 1, revoked_by = ?", data.get("revokedBy") or "me")
        elif data.get("type") == "reaction":
            reaction = data.get("reaction") or {"messageId": data.get("targetMessageId"), "emoji": data.get("text")}
            self._react(session_id, reaction.get("messageId"), data.get("from") or "me", reaction.get("emoji"))
        elif kind in MESSAGE_EVENTS and data.get("messageId"):
            self.db.execute("INSERT OR IGNORE INTO messages (session_id, message_id, chat_id, sender, from_me, type, "
                            "text, timestamp) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            (session_id, data["messageId"], data.get("chatId") or data.get("to"), data.get("from"),
                             int(from_me(kind, data)), data.get("type"), data.get("text"),
                             data.get("timestamp")))

    def _edit(self, session_id, message_id, text, at) -> None:
        self._update(session_id, message_id, "original_text = COALESCE(original_text, text), text = ?, edited_at = ?",
                     text, at)

    def _react(self, session_id, message_id, who: str, emoji: str | None) -> None:
        if emoji is None:  # an encrypted reaction: which emoji is unknown
            return
        row = self.db.execute("SELECT reactions FROM messages WHERE session_id = ? AND message_id = ?",
                              (session_id, message_id)).fetchone()
        if row is not None:
            reactions = {**json.loads(row[0]), who: emoji} if emoji else \
                {k: v for k, v in json.loads(row[0]).items() if k != who}
            self._update(session_id, message_id, "reactions = ?", json.dumps(reactions, ensure_ascii=False))

    def _update(self, session_id, message_id, assignments: str, *values) -> None:
        self.db.execute(f"UPDATE messages SET {assignments} WHERE session_id = ? AND message_id = ?",
                        (*values, session_id, message_id))

    def conversation(self, session_id: str, chat_id: str) -> list[dict]:
        """One chat's messages as the CRM shows them, oldest first."""
        cursor = self.db.execute("SELECT * FROM messages WHERE session_id = ? AND chat_id = ? ORDER BY rowid",
                                 (session_id, chat_id))
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def contacts(self) -> list[dict]:
        """Every contact seen, by phone number."""
        with self._lock:
            rows = self.db.execute("SELECT phone, jid, name, lid FROM contacts ORDER BY phone").fetchall()
        return [dict(zip(("phone", "jid", "name", "lid"), row, strict=True)) for row in rows]


def contact_of(data: dict) -> tuple | None:
    """(phone, jid, name, lid) of an event's sender when it is a phone number (a LID alone is no number)."""
    sender = data.get("from") or ""
    if not sender.endswith("@s.whatsapp.net"):
        return None
    return sender.split("@")[0], sender, data.get("pushName") or None, data.get("fromLid") or None


class CrmReceiver:
    """Configures the session webhook and stores what it receives."""

    def __init__(self, client: HubClient, session_id: str, url: str, secret: str,
                 events: list[str] | None, store: CrmStore):
        self.client, self.session_id, self.url, self.secret = client, session_id, url, secret
        self.events, self.store = events, store

    def ensure_registered(self) -> bool:
        """Configure the webhook unless the session has it, enabled; True when it configured it."""
        if is_registered(self.client.webhooks(self.session_id), self.url):
            return False
        self.client.set_webhook(self.session_id, self.url, events=self.events, secret=self.secret)
        return True

    def on_event(self, event: dict, webhook_id: str) -> None:
        if self.store.add(event):
            log.info("stored %s %s", event["type"], event["id"])
        else:
            log.info("already had %s (delivery %s)", event["id"], webhook_id)


def from_me(kind: str, data: dict) -> bool:
    """Whether the session's side wrote the message (a history message says so itself)."""
    return bool(data.get("fromMe")) if kind == "message-history" else kind != "message-received"


def main(argv=None) -> None:
    parser = base_arguments("Store a session's hub events in SQLite.", default_port=3014)
    parser.add_argument("--session", default=os.environ.get("SESSION_ID"), required="SESSION_ID" not in os.environ,
                        help="the session whose webhook this is (SESSION_ID)")
    parser.add_argument("--events", default=os.environ.get("CRM_EVENTS", "all"),
                        help="comma-separated event types (CRM_EVENTS; default all)")
    parser.add_argument("--db", default=os.environ.get("CRM_DB", "crm.db"), help="SQLite file (CRM_DB)")
    args = parse(parser, argv)
    events = [name.strip() for name in args.events.split(",") if name.strip()]
    crm = CrmReceiver(HubClient(args.hub_url, args.api_key), args.session, args.public_url,
                      args.secret or new_secret(), events, CrmStore(args.db))
    serve(args, crm.secret, crm.ensure_registered, crm.on_event)


if __name__ == "__main__":
    main()
