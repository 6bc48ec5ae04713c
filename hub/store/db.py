"""Engine and `db` sessions. SQLite gets WAL, foreign keys and a busy timeout.

Under gevent all greenlets share one OS thread, and SQLite's busy handler sleeps in C: two
connections contending for the write lock could freeze the process until the timeout. So a
SQLite file gets exactly one pooled connection; greenlets queue for it cooperatively. A
greenlet that already holds a `db` and asks again gets the same one (no self-deadlock).
"""
from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import sessionmaker

from hub.store import migrate
from hub.store.group import GroupCommit

AUTOCHECKPOINT_PAGES = 10000  # ~40 MB of WAL (SQLite's default, 1000, is ~4 MB)

_current_db: contextvars.ContextVar[DbSession | None] = contextvars.ContextVar("hub_db", default=None)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # A backstop only: hub.store.checkpoint checkpoints off the event loop long before this.
    cursor.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite files get their directory created and the pragmas above."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)
    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).resolve().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, pool_size=1, max_overflow=0, pool_timeout=60,
                           connect_args={"check_same_thread": False})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


class Store:
    """Owns the engine; hands out `db` sessions."""

    def __init__(self, url: str):
        self.engine = make_engine(url)
        self.factory = sessionmaker(self.engine, expire_on_commit=False)
        self.writes = GroupCommit(self)  # hot writes share commits once the worker starts it

    def migrate(self) -> None:
        """Bring the schema to this release's (Alembic, under a lock; hub/store/migrate.py)."""
        migrate.upgrade(self.engine)

    def in_transaction(self) -> bool:
        """Whether this greenlet (or thread) is inside a `with store.session()` block."""
        return _current_db.get() is not None

    @contextmanager
    def session(self) -> Iterator[DbSession]:
        """`with store.session() as db:` commits on success, rolls back on error."""
        current = _current_db.get()
        if current is not None:
            yield current  # nested use joins the outer transaction
            return
        db = self.factory()
        token = _current_db.set(db)
        try:
            yield db
            db.commit()
        except BaseException:
            db.rollback()
            raise
        finally:
            _current_db.reset(token)
            db.close()

    def dispose(self) -> None:
        self.engine.dispose()
