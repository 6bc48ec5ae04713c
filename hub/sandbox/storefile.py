"""The simulated whatsmeow store: one SQLite file per client, like `sqlstore` writes.

A linked device is a row of `whatsmeow_device` (the hub's FileStore.has_device reads that table,
for real and simulated sessions alike); unlinking deletes it. The functions have the signatures of
hub.sandbox.storedb's (the PostgreSQL store): goneonize picks a file's device the same way.
"""
from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

SCHEMA = ("CREATE TABLE IF NOT EXISTS whatsmeow_device (jid TEXT PRIMARY KEY, lid TEXT, push_name TEXT, "
          "platform TEXT, business_name TEXT)")


def _open(path: str) -> sqlite3.Connection:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=5)
    db.execute(SCHEMA)
    return db


def read_device(path: str, jid: str | None = None, new_device: bool = False) -> dict | None:
    """The device goneonize `Neonize` dials (see storedb.read_device), creating the store like sqlstore.New."""
    with closing(_open(path)) as db:
        if new_device and jid is None:
            return None
        query = "SELECT jid, lid, push_name FROM whatsmeow_device"
        row = db.execute(query + (" WHERE jid = ?" if jid else " LIMIT 1"), (jid,) if jid else ()).fetchone()
    if row is None and jid is not None:
        raise LookupError(jid)
    return {"jid": row[0], "lid": row[1], "pushName": row[2]} if row else None


def write_device(path: str, jid: str, lid: str, push_name: str) -> None:
    with closing(_open(path)) as db, db:
        db.execute("DELETE FROM whatsmeow_device")
        db.execute("INSERT INTO whatsmeow_device (jid, lid, push_name, platform, business_name) "
                   "VALUES (?, ?, ?, 'sandbox', '')", (jid, lid, push_name))


def forget_device(path: str, jid: str | None = None) -> None:
    if Path(path).exists():
        with closing(_open(path)) as db, db:
            db.execute("DELETE FROM whatsmeow_device")
