"""Alembic's environment: the hub at start-up (hub.store.migrate) and developers' `alembic` commands.

At start-up the hub passes the connection it holds under the migration lock. From the command
line (alembic.ini at the repository root) the database is HUB_DATABASE_URL, as for the hub.
"""
from alembic import context

from hub.store import Base
from hub.store.models import UTCDateTime


def include_name(name, type_, _parent_names) -> bool:
    """Compare only the hub's own tables (a shared database may hold others, e.g. whatsmeow's)."""
    return type_ != "table" or name in Base.metadata.tables or name == "alembic_version"


def render_item(type_, item, _autogen_context):
    """Revisions spell the hub's UTCDateTime as the plain DateTime it stores (no hub import in them)."""
    if type_ == "type" and isinstance(item, UTCDateTime):
        return "sa.DateTime()"
    return False


def configure(connection) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata, include_name=include_name,
                      render_item=render_item, compare_type=True,
                      render_as_batch=connection.dialect.name == "sqlite")  # SQLite alters by rebuilding tables


def migrate(connection) -> None:
    configure(connection)
    with context.begin_transaction():
        context.run_migrations()


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        migrate(connection)
        return
    from hub.config import Config
    from hub.store.migrate import migration_engine

    engine = migration_engine(Config.from_env().database_url)
    try:
        with engine.connect() as connection:
            migrate(connection)
            connection.commit()
    finally:
        engine.dispose()


run()
