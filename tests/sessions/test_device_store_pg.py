"""HUB_SESSION_STORE=database with the real Go library (not the sandbox), on a throwaway PostgreSQL.

As far as offline allows: whatsmeow creates its tables in their own schema; a device stored there
is found again by a client of a new process — the session's own device, not the first stored one;
a session that is not linked dials a new device; forgetting the session deletes its device only.
Pairing needs WhatsApp, so the test stores the device as whatsmeow's `PutDevice` would
(container.go insertDeviceQuery; tests/sessions/neonize_helpers.add_linked_device does the same
for the files store). Each client runs in its own process (tests/sessions/whatsmeow_pg_child.py).
"""
from __future__ import annotations

import json
import subprocess
import sys
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest

from hub.config import Config, ConfigError
from hub.sessions.device_store import DatabaseStore, whatsmeow_dsn
from hub.store import Store
from tests import postgres as pg
from tests.integration.hubproc import ROOT

OURS, OTHERS = "51987654321:7@s.whatsapp.net", "51911122233:3@s.whatsapp.net"


@pytest.fixture(scope="module")
def database(postgres, pg_template):
    url = pg.create_database(postgres, pg_template)
    yield url
    pg.drop_database(url)


def sql(url: str, statement: str, *args) -> list[tuple]:
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as db:
        cursor = db.execute(statement, args)
        return cursor.fetchall() if cursor.description else []


def dial_in_new_process(url: str, session_id: str) -> dict:
    result = subprocess.run([sys.executable, "-m", "tests.sessions.whatsmeow_pg_child", url, session_id], cwd=ROOT,
                            capture_output=True, text=True, timeout=90)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def put_device(url: str, jid: str, push_name: str) -> None:
    """A linked device as whatsmeow's Container.PutDevice stores it after a pairing."""
    key = bytes(range(32))
    sql(url, "INSERT INTO whatsmeow.whatsmeow_device (jid, registration_id, noise_key, identity_key, signed_pre_key,"
             " signed_pre_key_id, signed_pre_key_sig, adv_key, adv_details, adv_account_sig, adv_account_sig_key,"
             " adv_device_sig, platform, push_name)"
             " VALUES (%s, 1, %s, %s, %s, 1, %s, %s, %s, %s, %s, %s, 'Chrome', %s)",
        jid, key, key, key, key * 2, key, b"x", key * 2, key, key * 2, push_name)


def add_session(url: str, session_id: str, device_jid: str | None) -> None:
    sql(url, "INSERT INTO sessions (id, description, engine, status, reconnect_attempts, created_at, updated_at,"
             " settings, device_jid) VALUES (%s, '', 'neonize', 'stopped', 0, now(), now(), '{}', %s)",
        session_id, device_jid)


def test_the_real_library_stores_in_postgresql_and_finds_each_sessions_device_again(database):
    add_session(database, "shop", None)
    first = dial_in_new_process(database, "shop")
    assert "no such host" in first["error"] or "lookup" in first["error"], first  # offline: DNS, not the store
    assert first["newDevice"] and first["device"] is None
    tables = {name for (name,) in sql(database, "SELECT table_name FROM information_schema.tables "
                                                "WHERE table_schema = 'whatsmeow'")}
    assert {"whatsmeow_version", "whatsmeow_device", "whatsmeow_sessions", "whatsmeow_pre_keys"} <= tables
    assert not sql(database, "SELECT 1 FROM information_schema.tables WHERE table_schema = 'public' "
                             "AND table_name LIKE 'whatsmeow%%'")  # the hub's own schema stays clean

    put_device(database, OTHERS, "Other shop")  # stored first: GetFirstDevice would pick it
    put_device(database, OURS, "Shop")
    sql(database, "UPDATE sessions SET device_jid = %s WHERE id = 'shop'", OURS)  # what PairStatusEv records
    again = dial_in_new_process(database, "shop")
    assert (again["device"], again["pushName"], again["newDevice"]) == (OURS, "Shop", False)

    add_session(database, "branch", None)  # not linked: a new device, never another session's
    assert dial_in_new_process(database, "branch")["device"] is None

    store = Store(database)
    try:
        shop = DatabaseStore("shop", store)
        assert shop.has_device() and not DatabaseStore("branch", store).has_device()
        shop.forget()
        assert not shop.has_device()
    finally:
        store.dispose()
    assert sql(database, "SELECT jid FROM whatsmeow.whatsmeow_device") == [(OTHERS,)]
    assert sql(database, "SELECT device_jid FROM sessions WHERE id = 'shop'") == [(None,)]


def test_the_dsn_keeps_the_hubs_address_and_asks_lib_pq_for_libpqs_ssl_default():
    dsn = urlsplit(whatsmeow_dsn("postgresql+psycopg://hub:p%40ss@db.internal:5433/hub", "whatsmeow"))
    assert (dsn.scheme, dsn.netloc, dsn.path) == ("postgresql", "hub:p%40ss@db.internal:5433", "/hub")
    # lib/pq defaults to sslmode=require, which a server without TLS refuses; libpq's default is prefer.
    assert parse_qs(dsn.query) == {"sslmode": ["prefer"], "search_path": ["whatsmeow"]}
    chosen = urlsplit(whatsmeow_dsn("postgresql+psycopg://hub@db/hub?sslmode=verify-full", "whatsmeow_sandbox"))
    assert parse_qs(chosen.query) == {"sslmode": ["verify-full"], "search_path": ["whatsmeow_sandbox"]}


def test_the_database_store_is_refused_on_sqlite_at_start_up():
    with pytest.raises(ConfigError, match="HUB_SESSION_STORE=database needs PostgreSQL"):
        Config.from_env({"HUB_SESSION_STORE": "database", "HUB_DATABASE_URL": "sqlite:///hub.db"}, dotenv_path="/none")
    with pytest.raises(ConfigError, match="use files or database"):
        Config.from_env({"HUB_SESSION_STORE": "postgres"}, dotenv_path="/none")
    assert Config.from_env({}, dotenv_path="/none").session_store == "files"

