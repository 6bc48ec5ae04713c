"""python -m listeners.crm_receiver: keeps every event of one session in its own SQLite file.

At start-up (and every --check-interval seconds, in case the hub forgot it) it configures a
webhook on the session with POST /api/<sessionId>/webhook and its event filter. Each delivery's
signature is verified before anything is stored; an event is stored once, keyed by its id
(the webhook-id), so retried or replayed deliveries never duplicate a row.
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
)"""


class CrmStore:
    """The receiver's SQLite file; one connection shared by the request threads under a lock."""

    def __init__(self, path: str):
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(SCHEMA)
        self._lock = threading.Lock()

    def add(self, event: dict) -> bool:
        """Store a verified event; False when it was stored before (a retry or replay)."""
        data = event.get("data") or {}
        row = (event["id"], event["type"], event.get("sessionId"), data.get("chatId"), data.get("from"),
               data.get("text"), event.get("timestamp"), time.time(), json.dumps(event, ensure_ascii=False))
        with self._lock:
            cursor = self.db.execute("INSERT OR IGNORE INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
        return cursor.rowcount == 1


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
