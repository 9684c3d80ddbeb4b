"""Migrations shipped in the package, run from code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from pixserve.domain import JobStatus, NewJob
from pixserve.queue import SqlJobStore, current_revision, head_revision, upgrade
from pixserve.queue.engine import create_job_engine
from pixserve.queue.migrate import MIGRATIONS_DIR, shipped_head
from pixserve.queue.tables import metadata


def test_migrations_ship_as_packages() -> None:
    assert (MIGRATIONS_DIR / "__init__.py").is_file()
    assert (MIGRATIONS_DIR / "versions" / "__init__.py").is_file()
    assert (MIGRATIONS_DIR / "script.py.mako").is_file()


def test_upgrade_from_nothing_and_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/jobs.db"
    assert current_revision(url) is None
    upgrade(url)
    assert current_revision(url) == head_revision() == "0007_job_metrics"
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


def test_style_stats_migration_keeps_a_live_queue(tmp_path: Path) -> None:
    """0004 → 0005 on a database with jobs: they keep working; statistics start empty."""
    url = f"sqlite:///{tmp_path}/jobs.db"
    upgrade(url, "0004_partial_indexes")
    engine = create_job_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO jobs (id, style, status, input_key, params, progress, attempts,"
            " max_attempts, created_at, updated_at, lang) VALUES ('old', 'x', 'queued', 'k',"
            " '{}', 0, 0, 3, '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000', 'en')"
        )
    engine.dispose()
    upgrade(url)
    store = SqlJobStore(url)
    try:
        assert store.run_stats() == {}
        (job,) = store.claim("w1", lease_seconds=30)
        assert job.id == "old" and job.result_width is None
        assert store.succeed(
            "old",
            "w1",
            result_key="r",
            content_type="image/png",
            result_size=(3, 2),
            run_seconds=1.5,
        )
        done = store.get("old")
        assert done is not None and done.status is JobStatus.SUCCEEDED
        assert (done.result_width, done.result_height) == (3, 2)
        assert store.run_stats()["x"].mean_seconds == 1.5
        store.enqueue(NewJob(style="x", input_key="k2"))
    finally:
        store.close()


def test_the_shipped_head_is_read_as_alembic_reads_it() -> None:
    assert shipped_head() == head_revision()


def test_a_database_at_head_is_left_without_loading_alembic(tmp_path: Path) -> None:
    # Alembic, Mako and Pygments are ~8 MB a server process would hold for nothing.
    url = f"sqlite:///{tmp_path}/jobs.db"
    code = (
        "import sys\nfrom pixserve.queue import upgrade\n"
        f"upgrade({url!r})\nprint('alembic' in sys.modules)\n"
    )
    first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    again = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert (first.stdout.strip(), again.stdout.strip()) == ("True", "False"), first.stderr
    assert current_revision(url) == head_revision()
