"""Schema migrations at start-up (hub/store/migrate.py), on SQLite and on PostgreSQL.

- models and migrations agree (a model change without a revision fails here);
- the baseline revision equals the schema of the release before migrations (main at 073fa58, frozen
  in tests/store/fixtures/), and a database that release made, with a row in every table, is
  upgraded by the hub's start-up without a value changed, and the hub works on it;
- two processes upgrading one fresh database at the same moment both start (the lock);
- a migration that fails half-way leaves the database as it was; a newer database is refused.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, inspect, select, text

from hub.app import create_app
from hub.config import Config
from hub.store import Base, migrate
from hub.store.db import make_engine

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).with_name("fixtures")
AUTH = {"X-API-Key": "test-key"}
AT = datetime(2026, 11, 20, 10, 30, 15, 123456)  # naive UTC, as the release stored it
LATER = datetime(2026, 11, 21, 8, 0, 0, 500000)
OUTBOUND_ID = "out_01JDQ7X2Y3Z4A5B6C7D8E9F0GH"
NUMBERED_BY_THE_DATABASE = {"events": {"seq"}, "outbound": {"seq"}, "delivery_attempts": {"id"}}


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    """The URL of a fresh, empty database of each kind."""
    if request.param == "postgresql":
        return request.getfixturevalue("pg_url")
    return f"sqlite:///{tmp_path / 'hub.db'}"


def test_models_and_migrations_agree(database_url):
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                               "include_name": migrate.include_name})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert not differences, ("The models and the migrations disagree: add an Alembic revision "
                             "(README: Upgrades and backups). Differences:\n"
                             + "\n".join(map(str, differences)))


def test_the_baseline_equals_the_schema_of_the_release_before_migrations(database_url):
    engine = make_engine(database_url)
    create_release_schema(engine)
    with engine.connect() as connection:
        release = schema_of(connection)
    assert set(release) == migrate.BASELINE_TABLES
    tables = MetaData()
    tables.reflect(engine)
    tables.drop_all(engine)
    migrations = migrate.migration_engine(database_url)
    with migrations.connect() as connection:
        command.upgrade(migrate.alembic_config(connection), migrate.BASELINE)
        connection.commit()
    migrations.dispose()
    with engine.connect() as connection:
        assert schema_of(connection) == release
    engine.dispose()


def test_a_database_of_the_release_before_migrations_is_upgraded_with_every_row_kept(database_url, tmp_path):
    engine = make_engine(database_url)
    create_release_schema(engine)
    rows_in(engine)
    before = read_everything(engine)
    assert set(before) == set(inspect(engine).get_table_names()), "the data misses a table of the release"
    app = create_app(Config.for_tests(tmp_path, database_url=database_url))  # the start-up upgrade
    try:
        assert migrate.current_revision(engine) == migrate.head_revision()
        assert read_everything(engine, columns={table: rows[0].keys() for table, rows in before.items()}) == before
        works_on_the_upgraded_database(app.test_client(), engine)
    finally:
        app.extensions["hub"].sessions.stop_all()
        app.extensions["hub"].store.dispose()
        engine.dispose()


def works_on_the_upgraded_database(client, engine) -> None:
    """The hub reads what the old release stored and keeps working on it."""
    session = client.get("/api/sessions/shop", headers=AUTH).get_json()["session"]
    assert (session["phone"], session["pushName"], session["lastError"]) == ("51987654321", "Tienda ñ", "offline")
    assert session["connectedAt"] == "2026-11-20T10:30:15.123Z"
    deliveries = client.get("/api/deliveries?sessionId=shop", headers=AUTH).get_json()["deliveries"]
    assert [(d["id"], d["status"], d["lastStatusCode"]) for d in deliveries] == [("dlv_old", "failed", 500)]
    delivery = client.get("/api/deliveries/dlv_old", headers=AUTH).get_json()["delivery"]
    assert [a["response"] for a in delivery["attemptLog"]] == ["upstream down"]
    messages = client.get("/api/messages/shop", headers=AUTH).get_json()["messages"]
    assert [(m["id"], m["text"], m["media"]) for m in messages] == [("msg_old", "hola", {"mimetype": "image/png"})]
    webhooks = client.get("/api/shop/webhook", headers=AUTH).get_json()["webhooks"]
    assert [(w["url"], w["enabled"]) for w in webhooks] == [("http://127.0.0.1:9/hook", False)]
    events = client.get("/api/events?sessionId=shop", headers=AUTH).get_json()["events"]
    assert [e["data"] for e in events] == [{"text": "hola", "nested": {"ok": True}}]
    queued = client.get(f"/api/outbound/{OUTBOUND_ID}", headers=AUTH).get_json()["outbound"]
    assert (queued["status"], queued["fileName"]) == ("queued", "factura.pdf")
    sent = client.post("/api/whatsapp/send", json={"sessionId": "shop", "to": "+51 987 654 321", "message": "nuevo"},
                       headers=AUTH)
    assert sent.status_code == 202, sent.get_json()  # the session is not running: queued behind the old one
    with engine.connect() as connection:
        order = connection.execute(text("SELECT id FROM outbound ORDER BY seq")).scalars().all()
    assert order == [OUTBOUND_ID, sent.get_json()["id"]]


def test_two_processes_upgrading_one_fresh_database_at_once_both_start(database_url):
    start_at = time.time() + 3  # both have imported everything by then: the upgrades really overlap
    script = ("import sys, time\n"
              "from hub.store.db import make_engine\n"
              "from hub.store.migrate import upgrade, current_revision\n"
              "engine = make_engine(sys.argv[1])\n"
              "time.sleep(max(0.0, float(sys.argv[2]) - time.time()))\n"
              "upgrade(engine)\n"
              "print(current_revision(engine))\n")
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    processes = [subprocess.Popen([sys.executable, "-c", script, database_url, str(start_at)], cwd=ROOT,
                                  env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
    results = [process.communicate(timeout=60) for process in processes]
    for process, (out, err) in zip(processes, results, strict=True):
        assert process.returncode == 0, err
        # What a child printed is a diagnostic (under heavy load one run printed nothing at all, a
        # flake we could not reproduce); the database both worked on must be at the head.
        assert out.strip() in ("", migrate.head_revision()), out
    checker = make_engine(database_url)
    assert migrate.current_revision(checker) == migrate.head_revision()
    checker.dispose()


def test_a_database_upgraded_by_a_newer_release_is_refused_with_what_to_do(tmp_path):
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'ffff_from_the_future'"))
    with pytest.raises(migrate.MigrationError, match="restore the backup"):
        migrate.upgrade(engine)
    engine.dispose()


FAILING_REVISION = """
import sqlalchemy as sa
from alembic import op

revision, down_revision, branch_labels, depends_on = "fails_half_way", {head!r}, None, None


def upgrade():
    op.create_table("half_done", sa.Column("id", sa.Integer(), primary_key=True))
    op.execute("UPDATE sessions SET status = 'changed'")
    raise RuntimeError("failed half-way")
"""


@pytest.fixture
def scripts(tmp_path, monkeypatch):
    """A copy of the migration scripts that the hub migrates with during this test."""
    copy = tmp_path / "migrations"
    shutil.copytree(migrate.SCRIPTS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(migrate, "SCRIPTS", copy)
    forget_revisions()
    yield copy
    monkeypatch.undo()
    forget_revisions()


def forget_revisions() -> None:
    migrate.head_revision.cache_clear()
    migrate._script_directory.cache_clear()


def test_a_migration_that_fails_half_way_leaves_the_database_as_it_was(database_url, scripts):
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    with engine.begin() as connection:
        connection.execute(Base.metadata.tables["sessions"].insert(), release_rows()["sessions"])
    head = migrate.head_revision()
    (scripts / "versions" / "fails_half_way.py").write_text(FAILING_REVISION.format(head=head))
    forget_revisions()
    with pytest.raises(RuntimeError, match="failed half-way"):
        migrate.upgrade(engine)
    assert migrate.current_revision(engine) == head
    assert "half_done" not in inspect(engine).get_table_names()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT status FROM sessions")).scalars().all() == ["stopped"]
    engine.dispose()


def create_release_schema(engine) -> None:
    """The tables and indexes exactly as the release before migrations made them (frozen DDL)."""
    script = (FIXTURES / f"release_073fa58.{engine.dialect.name}.sql").read_text()
    sql = "\n".join(line for line in script.splitlines() if not line.startswith("--"))
    with engine.begin() as connection:
        for statement in filter(str.strip, sql.split(";")):
            connection.exec_driver_sql(statement)


def rows_in(engine) -> None:
    """One row in every table of the release, every column set (the database numbers seq/id)."""
    tables = MetaData()
    tables.reflect(engine)
    with engine.begin() as connection:
        for name, row in release_rows().items():
            table = tables.tables[name]
            assert set(row) | NUMBERED_BY_THE_DATABASE.get(name, set()) == set(table.c.keys()), name
            connection.execute(table.insert(), row)


def release_rows() -> dict[str, dict]:
    common = {"session_id": "shop", "created_at": AT}
    return {
        "sessions": {"id": "shop", "description": "Tienda", "engine": "sandbox", "status": "stopped",
                     "jid": "51987654321@s.whatsapp.net", "phone": "51987654321", "push_name": "Tienda ñ",
                     "last_error": "offline", "reconnect_attempts": 2, "next_retry_at": LATER, "connected_at": AT,
                     "created_at": AT, "updated_at": LATER},
        "events": {"id": "evt_old", "type": "message-received", "session_id": "shop", "timestamp": AT,
                   "sandbox": True, "data": {"text": "hola", "nested": {"ok": True}}},
        "endpoints": {"id": "ep_old", "kind": "webhook", "url": "http://127.0.0.1:9/hook", "session_id": "shop",
                      "session_key": "shop", "events": ["message-received"], "headers": {"Authorization": "Bearer x"},
                      "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "enabled": False,
                      "disabled_reason": "gone", "last_success_at": AT, "last_failure_at": LATER,
                      "consecutive_failures": 3, "created_at": AT, "updated_at": LATER},
        "deliveries": {"id": "dlv_old", "event_id": "evt_old", "endpoint_id": "ep_old",
                       "event_type": "message-received",
                       "url": "http://127.0.0.1:9/hook", "status": "failed", "attempts": 2, "next_attempt_at": LATER,
                       "lease_until": LATER, "last_status_code": 500, "last_error": "HTTP 500", "delivered_at": LATER,
                       **common},
        "delivery_attempts": {"delivery_id": "dlv_old", "at": AT, "status_code": 500, "success": False,
                              "latency_ms": 12.5, "error": "HTTP 500", "response": "upstream down"},
        "messages": {"id": "msg_old", "session_id": "shop", "direction": "in", "message_id": "3EB0OLD",
                     "chat_id": "51911122233@s.whatsapp.net", "sender": "51911122233@s.whatsapp.net",
                     "recipient": "51987654321@s.whatsapp.net", "type": "image", "text": "hola",
                     "media": {"mimetype": "image/png"}, "status": "received", "outbound_id": "out_none",
                     "timestamp": AT},
        "outbound": {"id": OUTBOUND_ID, "to": "51987654321@s.whatsapp.net", "type": "document", "text": "adjunto",
                     "file_name": "factura.pdf", "mimetype": "application/pdf", "payload": b"%PDF\x00\xff",
                     "status": "queued", "message_id": "3EB0SENT", "error": "session offline", "attempts": 1,
                     "next_attempt_at": AT, "idempotency_key": "key-1", "request_hash": "a" * 64, "sent_at": LATER,
                     **common},
        "media_files": {"id": "med_old", "message_row_id": "msg_old", "status": "stored", "kind": "image",
                        "mimetype": "image/png", "original_name": "foto.png", "file_name": "abc.png",
                        "file_size": 4, "sha256": "b" * 64, "error": "none", "content": b"\x89PNG",
                        "event_type": "message-received", "event_data": {"draft": 1}, "attempts": 1,
                        "started_at": AT, "finished_at": LATER, **common},
    }


def read_everything(engine, columns: dict | None = None) -> dict[str, list[dict]]:
    """Every row of every table (the release's columns only when `columns` is given), raw from the database."""
    tables = MetaData()
    tables.reflect(engine)
    result = {}
    with engine.connect() as connection:
        for name in release_rows():
            table = tables.tables[name]
            selected = [table.c[column] for column in columns[name]] if columns else list(table.c)
            rows = connection.execute(select(*selected).order_by(*table.primary_key.columns)).mappings().all()
            result[name] = [dict(row) for row in rows]
    return result


def schema_of(connection) -> dict:
    """Every table's columns, keys, indexes and constraints as the database reports them (as text)."""
    inspector = inspect(connection)
    return {table: {"columns": plain(inspector.get_columns(table)),
                    "primary_key": plain(inspector.get_pk_constraint(table)),
                    "foreign_keys": sorted(plain(inspector.get_foreign_keys(table)), key=repr),
                    "indexes": sorted(plain(inspector.get_indexes(table)), key=repr),
                    "unique": sorted(plain(inspector.get_unique_constraints(table)), key=repr)}
            for table in inspector.get_table_names() if table != "alembic_version"}


def plain(value):
    """Reflected schema with types and SQL expressions as their text (they compare by identity)."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value if value is None or isinstance(value, (str, int, float, bool)) else str(value)
