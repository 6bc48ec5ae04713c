"""A throwaway PostgreSQL cluster for tests: one per test session, a fresh database per test.

initdb in a temp dir, pg_ctl on a free loopback port (as the `postgres` user when the tests run as
root: PostgreSQL refuses to run as root). Without PostgreSQL the tests that need it are skipped,
unless HUB_REQUIRE_SYSTEM_TESTS=1, then they fail. The fixtures live in tests/conftest.py.
"""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def pg_binary(name: str) -> str | None:
    found = shutil.which(name) or sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found if isinstance(found, str) else (found[-1] if found else None)


def as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextmanager
def cluster() -> Iterator[str]:
    """A running throwaway PostgreSQL: its base URL (no database name)."""
    initdb, pg_ctl = pg_binary("initdb"), pg_binary("pg_ctl")
    if not (initdb and pg_ctl):
        if os.environ.get("HUB_REQUIRE_SYSTEM_TESTS") == "1":
            pytest.fail("HUB_REQUIRE_SYSTEM_TESTS=1 but PostgreSQL (initdb, pg_ctl) is not installed")
        pytest.skip("PostgreSQL is not installed")
    # Not under pytest's tmp dirs: they are private to the user running the tests.
    directory = Path(tempfile.mkdtemp(prefix="hub-postgres-"))
    os.chmod(directory, 0o777)  # the postgres user creates its cluster in here
    data = directory / "data"
    subprocess.run(as_postgres([initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]),
                   check=True, capture_output=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # fsync off: a test cluster that a crash would lose anyway; every test creates a database
    options = f"-p {port} -c listen_addresses=127.0.0.1 -k {directory} -c fsync=off -c max_connections=300"
    subprocess.run(as_postgres([pg_ctl, "-D", str(data), "-o", options, "-l", str(directory / "log"), "-w", "start"]),
                   check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(as_postgres([pg_ctl, "-D", str(data), "-m", "immediate", "stop"]), capture_output=True)
        shutil.rmtree(directory, ignore_errors=True)


def admin(postgres: str):
    """An autocommit connection to the cluster's maintenance database."""
    import psycopg
    return psycopg.connect(postgres.replace("postgresql+psycopg", "postgresql") + "/postgres", autocommit=True)


def create_database(postgres: str, template: str | None = None) -> str:
    """The URL of a new database on the cluster at `postgres`: empty, or a copy of `template`'s."""
    name = f"hub_{os.getpid()}_{time.monotonic_ns()}"
    with admin(postgres) as connection:
        connection.execute(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
    return f"{postgres}/{name}"


def drop_database(url: str) -> None:
    """Drop a database made by create_database (its connections closed first)."""
    postgres, name = url.rsplit("/", 1)
    with admin(postgres) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def migrated_template(postgres: str) -> str:
    """A database at the schema's head, to copy (CREATE DATABASE ... TEMPLATE) instead of migrating each time."""
    from hub.store import Store

    url = create_database(postgres)
    store = Store(url)
    store.migrate()
    store.dispose()
    return url.rsplit("/", 1)[1]
