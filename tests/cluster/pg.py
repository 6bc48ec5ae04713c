"""A throwaway PostgreSQL cluster the cluster tests can stop and start again (a database outage)."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.postgres import as_postgres, create_database, pg_binary


class Postgres:
    """initdb + pg_ctl on a free loopback port; `stop()` / `start()` make an outage."""

    def __init__(self):
        self.initdb, self.pg_ctl = pg_binary("initdb"), pg_binary("pg_ctl")
        self.directory = Path(tempfile.mkdtemp(prefix="hub-cluster-pg-"))
        os.chmod(self.directory, 0o777)  # the postgres user creates its cluster in here
        self.data = self.directory / "data"
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}"
        subprocess.run(as_postgres([self.initdb, "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E",
                                    "UTF8"]), check=True, capture_output=True)

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory} -c max_connections=300"
        subprocess.run(as_postgres([self.pg_ctl, "-D", str(self.data), "-o", options, "-l",
                                    str(self.directory / "log"), "-w", "start"]), check=True, capture_output=True)

    def stop(self) -> None:
        subprocess.run(as_postgres([self.pg_ctl, "-D", str(self.data), "-m", "immediate", "stop"]),
                       capture_output=True)

    def new_database(self) -> str:
        return create_database(self.url)


@pytest.fixture(scope="module")
def pg():
    if not (pg_binary("initdb") and pg_binary("pg_ctl")):
        if os.environ.get("HUB_REQUIRE_SYSTEM_TESTS") == "1":
            pytest.fail("HUB_REQUIRE_SYSTEM_TESTS=1 but PostgreSQL (initdb, pg_ctl) is not installed")
        pytest.skip("PostgreSQL is not installed")
    server = Postgres()
    server.start()
    yield server
    server.stop()
    shutil.rmtree(server.directory, ignore_errors=True)
