"""Job stores for the contract tests: every test runs on memory and on SQLite."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from pixserve.queue import JobStore, MemoryJobStore, SqlJobStore, upgrade
from tests.support.clock import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file; tests copy it instead of migrating again."""
    path = tmp_path_factory.mktemp("template") / "jobs.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path, migrated_db: Path) -> str:
    path = tmp_path / "jobs.db"
    shutil.copyfile(migrated_db, path)
    return f"sqlite:///{path}"


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, clock: FakeClock, sqlite_url: str) -> Iterator[JobStore]:
    s: JobStore
    if request.param == "memory":
        s = MemoryJobStore(clock=clock)
    else:
        s = SqlJobStore(sqlite_url, clock=clock)
    yield s
    s.close()
