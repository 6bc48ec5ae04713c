"""Where whatsmeow keeps a session's linked device: one SQLite file per session, or PostgreSQL for all.

`HUB_SESSION_STORE=files` (the default): `HUB_SESSIONS_DIR/<sessionId>/whatsapp.db`, one device per
file. `HUB_SESSION_STORE=database`: every session's device in the hub's PostgreSQL database, so any
hub process of a cluster can take a session over and connect the same device without a new QR.

What the sources force (goneonize `main.go` of krypton-byte/neonize at fcd96cb, whatsmeow
`store/sqlstore/container.go` at 33cfac5, neonize 0.5.2 `client.py`; each point reproduced offline
with the shipped library, tests/sessions/test_device_store_pg.py):
- goneonize `getDB`: a store name starting with `postgres` is opened with
  `sqlstore.New(ctx, "postgres", name)` (driver lib/pq), any other name as a SQLite file.
  `Container.Upgrade` creates whatsmeow's tables; every per-device table is keyed by the device
  JID (`FOREIGN KEY ... REFERENCES whatsmeow_device(jid) ON DELETE CASCADE`), so one database
  holds any number of devices, and deleting the `whatsmeow_device` row deletes all of a device.
- goneonize `Neonize` picks the device: `container.GetDevice(jid)` when neonize passes
  `NewClient.jid`, `container.NewDevice()` when `new_device`, else `container.GetFirstDevice()` —
  the first stored device: two unlinked sessions on one database would share (and double-connect)
  one device. So a session dials with `new_device=True` until it is linked, then with its JID.
- `GetDevice` answers `nil, nil` for an unknown JID and goneonize hands that nil to
  `whatsmeow.NewClient`: the process dies (SIGSEGV). The JID is passed only while its row exists.
- The device JID (`number:device@s.whatsapp.net`) is `PairSuccess.ID` (neonize's PairStatusEv);
  the hub records it in `sessions.device_jid` (hub.sessions.status).
- lib/pq's default is `sslmode=require` ("pq: SSL is not enabled on the server" on a plain
  server; libpq's and psycopg's default is `prefer`): the DSN gets `sslmode=prefer` unless the URL
  names one. lib/pq sends unknown keys as run-time parameters: `search_path=whatsmeow` puts
  whatsmeow's tables in a schema of their own (created here first: with no schema on the path
  its CREATE TABLE fails), away from the hub's tables and migrations.
- whatsmeow deletes the row itself on `Logout` and when the servers report the device removed
  (`Store.Delete`); the hub deletes it too (logout while offline, session deleted), as it deletes
  the file of the files store.
- `Neonize` opens and upgrades its container *inside* the gate's start grace (bridge.START_GRACE),
  before goneonize writes its client maps. The first upgrade creates 17 tables; the hub runs it
  once per process before the first dial (goneonize `GetAllDevices` opens the same container
  without touching the maps), so a dial only checks the version.
- Sandbox sessions use the schema `whatsmeow_sandbox` (hub/sandbox/storedb.py): the simulated
  table is not whatsmeow's full schema, and whatsmeow's upgrade would fail on it.
"""
from __future__ import annotations

import logging
import sqlite3
from contextlib import closing
from pathlib import Path

from gevent.lock import Semaphore
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

log = logging.getLogger(__name__)

STORE_FILE = "whatsapp.db"
SCHEMA = "whatsmeow"
SANDBOX_SCHEMA = "whatsmeow_sandbox"
_ready: set[tuple[str, str]] = set()  # (database, schema) made ready by this process
_readying = Semaphore()  # one greenlet prepares; the other sessions' dials wait for it


class FileStore:
    """HUB_SESSIONS_DIR/<id>/whatsapp.db: a SQLite store of its own (GetFirstDevice finds its one device)."""

    def __init__(self, directory: Path):
        self.directory = directory

    @property
    def file(self) -> Path:
        return self.directory.resolve() / STORE_FILE

    @property
    def name(self) -> str:
        """The store name neonize's NewClient gets: the file's path."""
        return str(self.file)

    def prepare(self, bridge, library) -> None:
        """whatsmeow creates the file, not its directory."""
        self.directory.mkdir(parents=True, exist_ok=True)

    def address(self, client) -> None:
        """The file holds one device: goneonize's GetFirstDevice (no jid, no new_device) finds it."""

    def has_device(self) -> bool:
        """A linked device is stored. An unreadable store counts: start() then says why."""
        if not self.file.exists():
            return False
        try:
            with closing(sqlite3.connect(self.file.as_uri() + "?mode=ro", uri=True)) as db:
                return db.execute("SELECT 1 FROM whatsmeow_device LIMIT 1").fetchone() is not None
        except sqlite3.Error:
            return True

    def forget(self) -> None:
        """Delete the database and its -wal/-shm."""
        for path in self.directory.glob(STORE_FILE + "*"):
            path.unlink(missing_ok=True)


class DatabaseStore:
    """A session's device among every session's, in `schema` of the hub's PostgreSQL database."""

    def __init__(self, session_id: str, store, schema: str = SCHEMA):
        self.session_id = session_id
        self.store = store  # the hub's Store: whatsmeow's tables live in the same database
        self.schema = schema
        self.name = whatsmeow_dsn(store.engine.url.render_as_string(hide_password=False), schema)

    def prepare(self, bridge, library) -> None:
        """The schema exists and (real library) whatsmeow's tables are upgraded, once per process."""
        key = (str(self.store.engine.url), self.schema)
        if key in _ready:
            return
        with _readying:
            if key not in _ready:
                self._create_schema()
                if library is None:
                    bridge.call(upgrade_whatsmeow, self.name)
                _ready.add(key)

    def _create_schema(self) -> None:
        try:
            with self.store.session() as db:
                db.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"'))
        except IntegrityError:
            pass  # another process created it at the same moment (IF NOT EXISTS is not atomic)

    def address(self, client) -> None:
        """Before a dial: this session's device by JID when it is stored, else a new device (never the first)."""
        device = self.device_jid()
        client.jid = device_proto(device) if device else None
        client.new_device = device is None

    def has_device(self) -> bool:
        """The session's recorded device is in the store."""
        return self.device_jid() is not None

    def device_jid(self) -> str | None:
        """The session's device JID if whatsmeow still stores that device."""
        table = f'"{self.schema}".whatsmeow_device'
        with self.store.session() as db:
            if db.execute(text("SELECT to_regclass(:table)"), {"table": table}).scalar() is None:
                return None  # whatsmeow never ran on this database
            return db.execute(text(f"SELECT s.device_jid FROM sessions s JOIN {table} d ON d.jid = s.device_jid "
                                   "WHERE s.id = :id"), {"id": self.session_id}).scalar()

    def forget(self) -> None:
        """Delete the device (its keys and sessions go with it: ON DELETE CASCADE) and forget its JID."""
        table = f'"{self.schema}".whatsmeow_device'
        with self.store.session() as db:
            if db.execute(text("SELECT to_regclass(:table)"), {"table": table}).scalar() is not None:
                db.execute(text(f"DELETE FROM {table} WHERE jid = (SELECT device_jid FROM sessions WHERE id = :id)"),
                           {"id": self.session_id})
            db.execute(text("UPDATE sessions SET device_jid = NULL WHERE id = :id"), {"id": self.session_id})


def new_store(config, hub_store, session_id: str, directory: Path, sandbox: bool):
    """The session's store as HUB_SESSION_STORE says."""
    if config.session_store == "database":
        return DatabaseStore(session_id, hub_store, SANDBOX_SCHEMA if sandbox else SCHEMA)
    return FileStore(directory)


def whatsmeow_dsn(database_url: str, schema: str) -> str:
    """The hub's SQLAlchemy URL as the DSN lib/pq takes: `postgresql://…?sslmode=prefer&search_path=<schema>`."""
    url = make_url(database_url).set(drivername="postgresql")
    query = {"sslmode": "prefer", **url.query, "search_path": schema}
    return url.set(query=query).render_as_string(hide_password=False)


def device_proto(device_jid: str):
    """'51987654321:7@s.whatsapp.net' -> the neonize JID (with its device number) GetDevice looks up."""
    from hub.sessions import builders  # neonize's protobufs load the Go library: only once a session dials

    address, _, server = device_jid.partition("@")
    user, _, device = address.partition(":")
    return builders.jid(f"{user}@{server}", int(device or 0))


def upgrade_whatsmeow(dsn: str) -> None:
    """goneonize `GetAllDevices`: opens the container (sqlstore.New + Upgrade) without a client (native pool)."""
    import neonize.client as neonize_client

    # Go logs through this callback during the call only; log_whatsmeow is the bridge's hand-off to the hub.
    callback = neonize_client.func_callback_bytes2(neonize_client.log_whatsmeow)
    answer = neonize_client.gocode.GetAllDevices(dsn.encode(), callback).decode()
    if answer.startswith("error: "):  # the dial will fail the same way and say so; this is only the warm-up
        log.warning("whatsmeow store: %s", answer[len("error: "):])
