"""Every API test that takes the `config` fixture runs twice: on SQLite and on PostgreSQL.

PostgreSQL: the session's throwaway cluster (tests/postgres.py), a fresh database per test copied
from one migrated template, dropped afterwards. Skipped without PostgreSQL (unless
HUB_REQUIRE_SYSTEM_TESTS=1). `-k sqlite` or `-k postgresql` runs one of the two.
"""
from __future__ import annotations

import pytest

from hub.config import Config
from tests import postgres as pg


@pytest.fixture(params=["sqlite", "postgresql"])
def config(request, tmp_path):
    if request.param == "sqlite":
        yield Config.for_tests(tmp_path)
        return
    url = pg.create_database(request.getfixturevalue("postgres"), template=request.getfixturevalue("pg_template"))
    yield Config.for_tests(tmp_path, database_url=url)
    pg.drop_database(url)  # after the app's teardown disposed of its connections
