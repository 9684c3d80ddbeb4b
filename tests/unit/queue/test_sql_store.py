"""What only the SQL store has: SQLite set-up, UTC storage, statements, error mapping."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import event

from pixserve.core.errors import PixserveError, Unavailable
from pixserve.domain import NewJob
from pixserve.queue import SqlJobStore
from pixserve.queue.engine import create_job_engine
from tests.support.clock import FakeClock


def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(sqlite_url: str) -> None:
    engine = create_job_engine(sqlite_url, busy_timeout=7)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 7000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_writes_begin_immediate_and_claim_is_one_statement(
    sqlite_url: str, clock: FakeClock
) -> None:
    store = SqlJobStore(sqlite_url, clock=clock)
    store.enqueue(NewJob(style="s", input_key="k"))
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(" ".join(statement.split()))

    event.listen(store._engine, "before_cursor_execute", record)
    store.queued_count()
    assert statements[0] == "BEGIN"
    statements.clear()
    store.claim("w1", lease_seconds=30, limit=4)
    assert statements[0] == "BEGIN IMMEDIATE"
    # Expired leases first, then the claim itself:
    # WITH batch AS (SELECT …) UPDATE … FROM batch WHERE jobs.id = batch.id RETURNING.
    assert len(statements) == 3
    assert statements[1].startswith("UPDATE jobs SET status=CASE")
    claim = statements[2]
    assert claim.startswith("WITH batch AS (SELECT jobs.id") and "UPDATE jobs SET" in claim
    assert "FROM batch WHERE jobs.id = batch.id" in claim
    assert "ORDER BY jobs.created_at, jobs.id" in claim and "RETURNING" in claim
    store.close()


def test_timestamps_are_utc_text_in_sqlite(sqlite_url: str, clock: FakeClock) -> None:
    store = SqlJobStore(sqlite_url, clock=clock)
    job = store.enqueue(NewJob(style="s", input_key="k", id="abc"))
    store.close()
    path = sqlite_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as raw:
        (created,) = raw.execute("SELECT created_at FROM jobs WHERE id = 'abc'").fetchone()
    assert (
        created == job.created_at.strftime("%Y-%m-%d %H:%M:%S.%f") == "2025-01-01 12:00:00.000000"
    )


def test_crop_is_stored_as_text(sqlite_url: str) -> None:
    from pixserve.domain import Crop

    store = SqlJobStore(sqlite_url)
    store.enqueue(NewJob(style="s", input_key="k", id="abc", crop=Crop(1, 2, 3, 4)))
    store.close()
    with sqlite3.connect(sqlite_url.removeprefix("sqlite:///")) as raw:
        assert raw.execute("SELECT crop FROM jobs").fetchone() == ("1,2,3,4",)


def test_unreachable_database_is_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    store = SqlJobStore(f"sqlite:///{blocker}/jobs.db")
    with pytest.raises(Unavailable):
        store.ping()
    with pytest.raises(Unavailable):
        store.get("x")
    store.close()


def test_unmigrated_database_is_unavailable(tmp_path: Path) -> None:
    store = SqlJobStore(f"sqlite:///{tmp_path}/empty.db")
    store.ping()
    with pytest.raises(Unavailable, match="no such table"):
        store.enqueue(NewJob(style="s", input_key="k"))
    store.close()


def test_in_memory_sqlite_is_refused() -> None:
    for url in ("sqlite://", "sqlite:///:memory:"):
        with pytest.raises(PixserveError, match="memory://"):
            SqlJobStore(url)


def test_missing_folder_is_created(tmp_path: Path) -> None:
    store = SqlJobStore(f"sqlite:///{tmp_path}/a/b/jobs.db")
    store.ping()
    assert (tmp_path / "a" / "b").is_dir()
    store.close()
