"""The SQLite engine's switch to WAL, which must survive processes opening a fresh file at once."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from pixserve.queue.engine import _switch_to_wal, create_job_engine


class LockedCursor:
    """A cursor whose WAL switch reports "database is locked" ``times`` times, as SQLite
    does at once (without its busy timeout) when another process is switching too."""

    def __init__(self, times: int, error: str = "database is locked") -> None:
        self.times, self.error, self.mode = times, error, "delete"

    def execute(self, sql: str) -> LockedCursor:
        if sql == "PRAGMA journal_mode = WAL":
            if self.times:
                self.times -= 1
                raise sqlite3.OperationalError(self.error)
            self.mode = "wal"
        return self

    def fetchone(self) -> tuple[str]:
        return (self.mode,)


def test_a_locked_switch_is_retried_until_it_succeeds() -> None:
    cursor = LockedCursor(times=3)
    _switch_to_wal(cursor, timeout=5.0)
    assert cursor.mode == "wal"


def test_a_database_locked_for_longer_than_the_timeout_raises() -> None:
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        _switch_to_wal(LockedCursor(times=1000), timeout=0.1)


def test_other_errors_are_not_retried() -> None:
    cursor = LockedCursor(times=1, error="disk I/O error")
    with pytest.raises(sqlite3.OperationalError, match="disk I/O"):
        _switch_to_wal(cursor, timeout=5.0)
    assert cursor.times == 0


def test_a_new_database_file_is_in_wal_mode(tmp_path: Path) -> None:
    engine = create_job_engine(f"sqlite:///{tmp_path}/jobs.db")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()
