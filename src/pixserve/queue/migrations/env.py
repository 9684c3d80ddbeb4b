"""Alembic environment for the job store.

``pixserve.queue.migrate`` passes an open connection in ``config.attributes["connection"]``;
plain ``alembic`` (with an ini file that sets ``sqlalchemy.url``) works too.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from pixserve.queue.engine import WRITE, create_job_engine
from pixserve.queue.tables import metadata

config = context.config


def run_with(connection: Connection) -> None:
    """Run the migrations on ``connection`` in one transaction (SQLite DDL is transactional)."""
    context.configure(
        connection=connection,
        target_metadata=metadata,
        transactional_ddl=True,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate the database given by the caller's connection or by ``sqlalchemy.url``."""
    connection = config.attributes.get("connection")
    if connection is not None:
        run_with(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("set sqlalchemy.url or pass a connection in config.attributes")
    engine = create_job_engine(url)
    try:
        with engine.execution_options(**{WRITE: True}).connect() as conn:
            run_with(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("pixserve migrations run online only")
run_migrations_online()
