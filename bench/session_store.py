"""What HUB_SESSION_STORE=database costs a dial, and the PostgreSQL connections whatsmeow keeps.

The real neonize library (whatsmeow inside), offline: each dial opens the session's store and then
fails at WhatsApp's DNS lookup, so a dial's time is the store's opening plus that lookup. The same
number of dials runs against per-session SQLite files (`files`, the baseline) and against one
throwaway PostgreSQL (`database`, each session its own device), alternating, in one process. Prints
the median dial time of each and the ratio database/files, then the server's count of connections
this process holds after the first dial of every session and after the redials (goneonize opens a
store per dial and never closes it).

    .venv/bin/python bench/session_store.py [--sessions 5] [--redials 5]
"""
import argparse
import logging
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

logging.basicConfig(level=logging.WARNING)  # before neonize: it configures logging on import
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg  # noqa: E402
from neonize.client import NewClient  # noqa: E402

from hub.sessions.device_store import SCHEMA, upgrade_whatsmeow, whatsmeow_dsn  # noqa: E402
from tests import postgres  # noqa: E402


def dial(client) -> float:
    """Seconds until connect() returned (offline: the DNS error), bounded."""
    began = time.perf_counter()
    thread = threading.Thread(target=lambda: _connect(client), daemon=True)
    thread.start()
    thread.join(30)
    return time.perf_counter() - began


def _connect(client) -> None:
    try:
        client.connect()
    except Exception:  # offline: "no such host"
        pass


def connections(url: str) -> int:
    with psycopg.connect(url) as db:
        return db.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                          "AND pid <> pg_backend_pid()").fetchone()[0]


def main(sessions: int, redials: int) -> None:
    with postgres.cluster() as base, tempfile.TemporaryDirectory() as directory:
        url = postgres.create_database(base)
        plain = url.replace("postgresql+psycopg", "postgresql")
        with psycopg.connect(plain, autocommit=True) as db:
            db.execute(f'CREATE SCHEMA "{SCHEMA}"')
        dsn = whatsmeow_dsn(url, SCHEMA)
        upgrade_whatsmeow(dsn)  # as the hub does once per process
        before = connections(plain)
        times = {"files": [], "database": []}
        clients = {}
        for index in range(sessions):
            clients["files", index] = NewClient(str(Path(directory) / f"s{index}.db"), uuid=f"f{index}")
            clients["database", index] = NewClient(dsn, uuid=f"d{index}", new_device=True)
            for kind in times:
                times[kind].append(dial(clients[kind, index]))
        first = connections(plain) - before
        for _ in range(redials):
            clients["database", 0].stop()
            times["database"].append(dial(clients["database", 0]))
        redialled = connections(plain) - before
    files, database = statistics.median(times["files"]), statistics.median(times["database"])
    print(f"dial (store opened, then the DNS failure), median: files {files * 1000:.1f} ms, "
          f"database {database * 1000:.1f} ms, ratio database/files {database / files:.2f}")
    print(f"PostgreSQL connections held: {first} after {sessions} sessions dialled once, "
          f"{redialled} after {redials} more dials of one session")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=5)
    parser.add_argument("--redials", type=int, default=5)
    arguments = parser.parse_args()
    main(arguments.sessions, arguments.redials)
