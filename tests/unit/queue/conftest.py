"""Job stores for the contract tests, on a migrated SQLite copy (``sqlite_url``, from
``tests/unit/conftest.py``); ``tests/integration/queue`` runs them on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pixserve.queue import SqlJobStore, SqlOutbox
from tests.support.clock import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(clock: FakeClock, sqlite_url: str) -> Iterator[SqlJobStore]:
    s = SqlJobStore(sqlite_url, clock=clock)
    yield s
    s.close()


@pytest.fixture
def outbox(clock: FakeClock, sqlite_url: str) -> Iterator[SqlOutbox]:
    """The outbox in the same database as :func:`store`."""
    box = SqlOutbox(sqlite_url, clock=clock)
    yield box
    box.close()
