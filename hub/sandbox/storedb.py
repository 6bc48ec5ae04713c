"""The simulated whatsmeow store in PostgreSQL, and which store a client name opens.

goneonize `getDB` (`main.go`): a store name starting with `postgres` is a DSN for whatsmeow's
`sqlstore.New(ctx, "postgres", name)` (lib/pq), any other name a SQLite file (hub.sandbox.storefile).
What matters of whatsmeow's `sqlstore.Container` (`store/sqlstore/container.go`) is reproduced:
its `whatsmeow_device` table in the DSN's `search_path` schema (`Container.Upgrade` creates it),
any number of devices keyed by JID, `PutDevice` at pairing and `DeleteDevice` at logout. How
goneonize `Neonize` picks the device — `GetDevice(jid)`, `NewDevice()`, `GetFirstDevice()` — is in
`read_device`; the caller reproduces the crash of `GetDevice`'s nil for an unknown JID.
Every function runs on the hub's thread (SQLAlchemy over psycopg, like the hub's own store).
"""
from __future__ import annotations

from types import ModuleType

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from hub.sandbox import storefile

# whatsmeow's columns that the hub or the simulator read (the real table has the keys too).
SCHEMA = ("CREATE TABLE IF NOT EXISTS whatsmeow_device (jid TEXT PRIMARY KEY, lid TEXT, push_name TEXT NOT NULL "
          "DEFAULT '', platform TEXT NOT NULL DEFAULT '', business_name TEXT NOT NULL DEFAULT '')")
_engines: dict[str, Engine] = {}


def store_of(name: str) -> ModuleType:
    """goneonize `getDB`: the module that simulates the store `name` opens."""
    import sys

    return sys.modules[__name__] if name.startswith("postgres") else storefile


def _engine(dsn: str) -> Engine:
    """One small pool per DSN; lib/pq's `search_path` key becomes the session's search_path."""
    engine = _engines.get(dsn)
    if engine is None:
        url = make_url(dsn)
        schema = url.query["search_path"]
        url = url.set(drivername="postgresql+psycopg").difference_update_query(["search_path"])
        engine = _engines[dsn] = create_engine(url, pool_size=2, max_overflow=2, pool_pre_ping=True,
                                               connect_args={"options": f"-c search_path={schema}"})
    return engine


def read_device(dsn: str, jid: str | None = None, new_device: bool = False) -> dict | None:
    """The device goneonize `Neonize` dials: GetDevice(jid) (LookupError: Go's nil), NewDevice() (None), or
    GetFirstDevice(); the table is created first, as `sqlstore.New` upgrades the container."""
    with _engine(dsn).begin() as db:
        db.execute(text(SCHEMA))
        if new_device and jid is None:
            return None
        query = "SELECT jid, lid, push_name FROM whatsmeow_device"
        where = " WHERE jid = :jid" if jid else " ORDER BY jid LIMIT 1"
        row = db.execute(text(query + where), {"jid": jid}).first()
    if row is None and jid is not None:
        raise LookupError(jid)
    return {"jid": row[0], "lid": row[1], "pushName": row[2]} if row else None


def write_device(dsn: str, jid: str, lid: str, push_name: str) -> None:
    """`Container.PutDevice` after a pairing: the device's row (upserted by JID)."""
    with _engine(dsn).begin() as db:
        db.execute(text(SCHEMA))
        db.execute(text("INSERT INTO whatsmeow_device (jid, lid, push_name, platform) "
                        "VALUES (:jid, :lid, :name, 'sandbox') "
                        "ON CONFLICT (jid) DO UPDATE SET lid = excluded.lid, push_name = excluded.push_name"),
                   {"jid": jid, "lid": lid, "name": push_name})


def forget_device(dsn: str, jid: str | None) -> None:
    """`Container.DeleteDevice` (Store.Delete on logout or a removed device): only that device's row."""
    with _engine(dsn).begin() as db:
        db.execute(text(SCHEMA))
        db.execute(text("DELETE FROM whatsmeow_device WHERE jid = :jid"), {"jid": jid})
