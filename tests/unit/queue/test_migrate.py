"""Migrations shipped in the package, run from code."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from pixserve.queue import current_revision, head_revision, upgrade
from pixserve.queue.engine import create_job_engine
from pixserve.queue.migrate import MIGRATIONS_DIR
from pixserve.queue.tables import metadata


def test_migrations_ship_as_packages() -> None:
    assert (MIGRATIONS_DIR / "__init__.py").is_file()
    assert (MIGRATIONS_DIR / "versions" / "__init__.py").is_file()
    assert (MIGRATIONS_DIR / "script.py.mako").is_file()


def test_upgrade_from_nothing_and_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/jobs.db"
    assert current_revision(url) is None
    upgrade(url)
    assert current_revision(url) == head_revision() == "0004_partial_indexes"
    upgrade(url)
    assert current_revision(url) == head_revision()


def test_migrated_schema_matches_tables(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/jobs.db"
    upgrade(url)
    engine = create_job_engine(url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        assert compare_metadata(context, metadata) == []
    engine.dispose()
