"""Schema migrations at start-up: `upgrade(engine)` brings the database to the newest Alembic revision.

The scripts live in hub/store/migrations/ (env.py, versions/); the hub configures Alembic in code,
so it needs no alembic.ini at run time (the one at the repository root is for developers).

Hazards and what prevents them:
- Two processes starting at once (gunicorn restarts, several containers on one database) would
  both create the same tables: the upgrade runs under a lock — `pg_advisory_lock` on a fixed key
  on PostgreSQL, an flock on `<db file>.migrate.lock` beside a SQLite file.
- A database made before migrations existed has the tables but no `alembic_version`: creating
  them again would fail, so it is stamped at the baseline (it equals that release's schema) first.
- A crash half-way through a migration must not leave half a schema: SQLite runs the whole
  upgrade in one `BEGIN IMMEDIATE` transaction (pysqlite would commit each DDL statement);
  PostgreSQL's DDL is transactional anyway.
- A SQLite table rebuild (Alembic's batch mode: copy, DROP, rename) with foreign keys on would
  cascade the DROP into the rows that reference it: the migration connection keeps them off.
- Every test builds an app: when the database is already at head, one SELECT decides it and
  Alembic is not loaded at all.
"""
from __future__ import annotations

import fcntl
import functools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import TypeDecorator, create_engine, event, inspect, text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import OperationalError, ProgrammingError

from hub.store.models import Base

SCRIPTS = Path(__file__).with_name("migrations")
BASELINE = "0001"  # the schema of the last release without migrations (main at 073fa58)
BASELINE_TABLES = frozenset({"sessions", "events", "endpoints", "deliveries", "delivery_attempts", "messages",
                             "outbound", "media_files"})
PG_LOCK_KEY = 4_242_001  # any fixed number: every hub process must take the same advisory lock


class MigrationError(RuntimeError):
    """The database cannot be brought to this release's schema (the message says what to do)."""


def upgrade(engine: Engine) -> None:
    """Bring the database to the newest revision, one process at a time; cheap when it is already there."""
    try:
        if current_revision(engine) == head_revision():
            return
    except OperationalError:  # SQLite "database is locked": another process is migrating; the lock waits for it
        pass
    migrations = migration_engine(engine.url) if _sqlite_file(engine.url) else engine
    try:
        with _lock(migrations) as connection:
            _upgrade_locked(connection)
    finally:
        if migrations is not engine:
            migrations.dispose()


def current_revision(engine_or_connection) -> str | None:
    """The revision stamped in the database (one SELECT); None when it has no `alembic_version`."""
    with _connect(engine_or_connection) as connection:
        try:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except (OperationalError, ProgrammingError):  # no such table
            connection.rollback()
            return None


@functools.cache
def head_revision() -> str:
    """The newest revision in hub/store/migrations/versions (read once per process)."""
    heads = _script_directory().get_heads()
    if len(heads) != 1:
        raise MigrationError(f"The migrations have {len(heads)} heads ({', '.join(heads)}): merge them "
                             "(alembic merge heads) so the schema has one history.")
    return heads[0]


def alembic_config(connection: Connection | None = None):
    """Alembic's configuration in code; `connection` is what env.py migrates."""
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(SCRIPTS))
    config.attributes["connection"] = connection
    return config


@functools.cache
def _script_directory():
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def include_name(name, type_, _parent_names) -> bool:
    """Compare only the hub's own tables (a shared database may hold others, e.g. whatsmeow's)."""
    return type_ != "table" or name in Base.metadata.tables or name == "alembic_version"


def render_item(type_, item, _autogen_context):
    """Revisions spell the hub's column types (UTCDateTime, CleanString) as the plain types they store.

    So no revision imports the hub: `sa.DateTime()`, `sa.String(length=64)`.
    """
    if type_ == "type" and isinstance(item, TypeDecorator):
        return f"sa.{item.impl!r}"
    return False


def _upgrade_locked(connection: Connection) -> None:
    """Stamp a database of the release before migrations, then upgrade to head (inside the lock)."""
    from alembic import command

    config = alembic_config(connection)
    revision = current_revision(connection)
    if revision is None and _is_previous_release(connection):
        command.stamp(config, BASELINE)
    elif revision is not None and revision not in _known_revisions():
        raise MigrationError(f"The database is at revision {revision}, which this release does not know: a newer "
                             "release upgraded it. Run that release, or restore the backup taken before the "
                             "upgrade (README: Upgrades and backups).")
    command.upgrade(config, "head")
    connection.commit()


def _known_revisions() -> set[str]:
    return {script.revision for script in _script_directory().walk_revisions()}


def _is_previous_release(connection: Connection) -> bool:
    """Whether the hub's tables exist without migrations; a partial set is refused, not guessed at."""
    present = BASELINE_TABLES & set(inspect(connection).get_table_names())
    if present and present != BASELINE_TABLES:
        missing = ", ".join(sorted(BASELINE_TABLES - present))
        raise MigrationError(f"The database has some of the hub's tables but not {missing}, and no alembic_version: "
                             "it was not made by a hub release. Point HUB_DATABASE_URL at the hub's own database.")
    return bool(present)


def _sqlite_file(url: URL | str) -> str | None:
    """The path of a SQLite database file; None for PostgreSQL or an in-memory database."""
    url = make_url(url)
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:" or database.startswith("file:"):
        return None
    return database


def migration_engine(url: URL | str) -> Engine:
    """An engine to migrate with: on a SQLite file, one transaction for the whole upgrade and foreign keys off."""
    if _sqlite_file(url) is None:
        return create_engine(url)
    migrations = create_engine(url)
    event.listen(migrations, "connect", _sqlite_manual_transactions)
    event.listen(migrations, "begin", lambda connection: connection.exec_driver_sql("BEGIN IMMEDIATE"))
    return migrations


def _sqlite_manual_transactions(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None  # pysqlite's own BEGIN handling off: the "begin" event emits it
    dbapi_connection.execute("PRAGMA busy_timeout=30000")
    dbapi_connection.execute("PRAGMA foreign_keys=OFF")


@contextmanager
def _lock(engine: Engine) -> Iterator[Connection]:
    """A connection held under the migration lock (one process at a time)."""
    database = _sqlite_file(engine.url)
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            with _pg_advisory_lock(connection):
                yield connection
        elif database is not None:
            with _file_lock(Path(database).resolve().with_name(Path(database).name + ".migrate.lock")):
                yield connection
        else:
            yield connection  # an in-memory database: no other process can see it


@contextmanager
def _pg_advisory_lock(connection: Connection) -> Iterator[None]:
    connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": PG_LOCK_KEY})
    connection.commit()  # a session lock: it outlives this transaction, the migrations run in the next
    try:
        yield
    finally:
        connection.rollback()
        connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": PG_LOCK_KEY})
        connection.commit()


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # blocks: start-up has nothing else to do until the schema is ready
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def _connect(engine_or_connection) -> Iterator[Connection]:
    if isinstance(engine_or_connection, Connection):
        yield engine_or_connection
    else:
        with engine_or_connection.connect() as connection:
            yield connection


def main() -> None:
    """`python -m hub.store`: upgrade HUB_DATABASE_URL's database now, then print its revision."""
    import logging

    from hub.config import Config
    from hub.store.db import make_engine

    logging.basicConfig(level=logging.INFO, format="%(message)s")  # Alembic names each revision it runs
    engine = make_engine(Config.from_env().database_url)
    upgrade(engine)
    print(current_revision(engine))
    engine.dispose()
