"""The simulated whatsmeow store: one SQLite file per client, like `sqlstore` writes.

A linked device is a row of `whatsmeow_device` (the hub's NeonizeEngine.has_credentials reads
that table, for real and simulated sessions alike); unlinking deletes it.
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


def read_device(path: str) -> dict | None:
    """The stored device (what `container.GetFirstDevice` finds), creating the store like sqlstore.New."""
    with closing(_open(path)) as db:
        row = db.execute("SELECT jid, lid, push_name FROM whatsmeow_device LIMIT 1").fetchone()
    return {"jid": row[0], "lid": row[1], "pushName": row[2]} if row else None


def write_device(path: str, jid: str, lid: str, push_name: str) -> None:
    with closing(_open(path)) as db, db:
        db.execute("DELETE FROM whatsmeow_device")
        db.execute("INSERT INTO whatsmeow_device (jid, lid, push_name, platform, business_name) "
                   "VALUES (?, ?, ?, 'sandbox', '')", (jid, lid, push_name))


def forget_device(path: str) -> None:
    if Path(path).exists():
        with closing(_open(path)) as db, db:
            db.execute("DELETE FROM whatsmeow_device")
