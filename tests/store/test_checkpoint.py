"""WAL checkpoints run off the request path (hub/store/checkpoint.py)."""
import sqlite3

from hub.store import checkpoint
from hub.store.db import AUTOCHECKPOINT_PAGES


def test_sqlite_path_only_for_sqlite_files():
    assert checkpoint.sqlite_path("sqlite:////data/hub.db") == "/data/hub.db"
    assert checkpoint.sqlite_path("sqlite:///:memory:") is None
    assert checkpoint.sqlite_path("postgresql://hub@db/hub") is None


def test_a_checkpoint_copies_the_wal_into_the_database(hub):
    path = checkpoint.sqlite_path(hub.config.database_url)
    hub.sessions.create("shop", engine="sandbox")  # some committed frames in the WAL
    busy, frames, copied = checkpoint.checkpoint(path)
    assert busy == 0 and frames > 0 and copied == frames
    with sqlite3.connect(path) as connection:  # a new reader sees the row without the WAL's help
        assert connection.execute("SELECT id FROM sessions").fetchall() == [("shop",)]


def test_automatic_checkpoints_are_only_a_backstop(hub):
    with hub.store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == AUTOCHECKPOINT_PAGES


def test_the_scheduler_gets_a_job_for_sqlite_only(hub):
    class Scheduler:
        def __init__(self):
            self.jobs = []

        def add_job(self, call, *args, **kwargs):
            self.jobs.append(kwargs["id"])
    scheduler = Scheduler()
    checkpoint.start(hub, scheduler)
    assert scheduler.jobs == ["sqlite-checkpoint"]
