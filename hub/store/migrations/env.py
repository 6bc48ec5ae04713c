"""Alembic's environment: the hub at start-up (hub.store.migrate) and developers' `alembic` commands.

At start-up the hub passes the connection it holds under the migration lock. From the command
line (alembic.ini at the repository root) the database is HUB_DATABASE_URL, as for the hub.
"""
from alembic import context

from hub.store import Base
from hub.store.migrate import include_name, render_item


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
