"""Schema migrations, run from code: no ``alembic.ini`` is needed on disk.

The Alembic scripts ship inside the package (``pixserve/queue/migrations``). ``upgrade`` runs
them in one ``BEGIN IMMEDIATE`` transaction on SQLite, and under a session advisory lock on
PostgreSQL, so several processes starting at once migrate the database exactly once.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.exc import OperationalError

from pixserve.core.errors import Unavailable
from pixserve.queue.engine import WRITE, create_job_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

#: The PostgreSQL advisory lock key that serialises concurrent upgrades ("pixserve" in hex).
_PG_MIGRATION_LOCK = 0x706978736572


def alembic_config() -> Config:
    """An Alembic config pointing at the migrations inside the package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str | None:
    """The newest revision the package ships."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database at ``database_url`` up to ``revision``; a no-op when it is there."""
    engine = create_job_engine(database_url)
    try:
        with engine.execution_options(**{WRITE: True}).connect() as connection:
            if connection.dialect.name == "postgresql":
                # Held until this connection closes; the others wait here, then find the
                # schema up to date.
                connection.exec_driver_sql(f"SELECT pg_advisory_lock({_PG_MIGRATION_LOCK})")
                connection.commit()
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    except OperationalError as exc:
        raise Unavailable(f"cannot migrate the job database: {exc.orig}") from exc
    finally:
        engine.dispose()


def current_revision(database_url: str) -> str | None:
    """The revision the database is at, or None if it was never migrated."""
    engine = create_job_engine(database_url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except OperationalError as exc:
        raise Unavailable(f"cannot read the job database: {exc.orig}") from exc
    finally:
        engine.dispose()
