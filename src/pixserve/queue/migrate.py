"""Schema migrations, run from code: no ``alembic.ini`` is needed on disk.

The Alembic scripts ship inside the package (``pixserve/queue/migrations``). ``upgrade`` runs
them in one ``BEGIN IMMEDIATE`` transaction on SQLite, and under a session advisory lock on
PostgreSQL, so several processes starting at once migrate the database exactly once.

A database already at the newest revision is the usual case at start-up: ``upgrade`` sees
it with one query and does not load Alembic at all (with Mako and Pygments, about 8 MB that
every server and worker process would otherwise hold for its whole life).
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from pixserve.core.errors import Unavailable
from pixserve.queue.engine import WRITE, create_job_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

#: The PostgreSQL advisory lock key that serialises concurrent upgrades ("pixserve" in hex).
_PG_MIGRATION_LOCK = 0x706978736572

if TYPE_CHECKING:
    from alembic.config import Config


def alembic_config() -> Config:
    """An Alembic config pointing at the migrations inside the package."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str | None:
    """The newest revision the package ships, as Alembic reads it."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database at ``database_url`` up to ``revision``; a no-op when it is there."""
    engine = create_job_engine(database_url)
    try:
        if revision == "head" and _revisions_of(engine) == [shipped_head()]:
            return
        from alembic import command

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
        revisions = _revisions_of(engine)
    finally:
        engine.dispose()
    if len(revisions) > 1:  # branches: pixserve's history is linear
        raise RuntimeError(f"the job database is at several revisions: {revisions}")
    return revisions[0] if revisions else None


@functools.cache
def shipped_head() -> str:
    """The newest revision the package ships, read from its scripts without loading Alembic.

    The history is linear: the head is the one revision no script names as its
    ``down_revision`` (a test checks this against :func:`head_revision`).
    """
    named: dict[str, set[str]] = {"revision": set(), "down_revision": set()}
    for script in sorted((MIGRATIONS_DIR / "versions").glob("[0-9]*.py")):
        for statement in ast.parse(script.read_text()).body:
            if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
                target, value = statement.targets[0], statement.value
            elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
                target, value = statement.target, statement.value
            else:
                continue
            if isinstance(target, ast.Name) and target.id in named:
                found = ast.literal_eval(value)
                named[target.id].update(found if isinstance(found, tuple) else [found])
    heads = named["revision"] - named["down_revision"]
    if len(heads) != 1:
        raise RuntimeError(f"the shipped migrations have {len(heads)} heads: {sorted(heads)}")
    return heads.pop()


def _revisions_of(engine: Engine) -> list[str]:
    """The revisions Alembic recorded in the database (none before the first migration)."""
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return []
            rows = connection.execute(text("SELECT version_num FROM alembic_version"))
            return [str(row[0]) for row in rows]
    except OperationalError as exc:
        raise Unavailable(f"cannot read the job database: {exc.orig}") from exc
