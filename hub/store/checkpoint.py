"""SQLite WAL checkpoints off the event loop (a background module: see hub/runtime.py).

With synchronous=NORMAL a WAL commit does not fsync; a checkpoint does (the WAL, then the
database file). SQLite runs one automatically inside the commit that crosses
`wal_autocheckpoint` pages, i.e. in the gevent worker's only thread, and every request and
delivery waits for those fsyncs. Here a native thread runs a PASSIVE checkpoint (it never
waits for, nor blocks, the writer) on its own connection every second, so the automatic one
(kept as a backstop at a larger size, hub/store/db.py) practically never fires.
"""
from __future__ import annotations

import logging
import sqlite3

from hub.context import HubContext

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 1.0


def sqlite_path(url: str) -> str | None:
    """The database file of a SQLite URL (None for other databases and in-memory SQLite)."""
    if not url.startswith("sqlite:///") or ":memory:" in url:
        return None
    return url[len("sqlite:///"):]


def checkpoint(path: str) -> tuple[int, int, int]:
    """One PASSIVE checkpoint of `path`: (busy, WAL frames, frames checkpointed)."""
    connection = sqlite3.connect(path, check_same_thread=False)
    try:
        return connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    finally:
        connection.close()


def off_the_loop(call, *args):
    """Run `call` in a native thread under gevent (its fsyncs release the GIL); directly otherwise."""
    from gevent import get_hub, monkey

    if not monkey.is_module_patched("threading"):
        return call(*args)
    return get_hub().threadpool.apply(call, args)


def run(path: str) -> None:
    try:
        off_the_loop(checkpoint, path)
    except Exception:  # a missed checkpoint is caught up by the next one (or SQLite's backstop)
        log.exception("WAL checkpoint failed")


def start(context: HubContext, scheduler) -> None:
    path = sqlite_path(context.config.database_url)
    if path is not None:
        scheduler.add_job(run, "interval", seconds=INTERVAL_SECONDS, args=(path,), id="sqlite-checkpoint",
                          max_instances=1, coalesce=True)

