"""The intake store's contract on a migrated SQLite file (on PostgreSQL:
tests/integration/queue/test_postgres_intake.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pixserve.queue.intake import IntakeStore, Window
from pixserve.queue.intake_sql import SqlIntakeStore, open_intake_store
from tests.support.clock import FakeClock


@pytest.fixture
def intake(clock: FakeClock, sqlite_url: str) -> Iterator[IntakeStore]:
    store = SqlIntakeStore(sqlite_url, clock=clock)
    yield store
    store.close()


def test_the_switch_starts_open_and_flips(intake: IntakeStore, clock: FakeClock) -> None:
    assert intake.switch().paused is False
    switch = intake.set_paused(True, "bill")
    assert (switch.paused, switch.note, switch.updated_at) == (True, "bill", clock.now)
    assert intake.switch().paused is True
    assert intake.set_paused(False).paused is False
    assert intake.switch().note is None


def test_admit_counts_per_hour_and_stops_at_a_full_window(intake: IntakeStore) -> None:
    windows = [Window(first_hour=100, cap=3)]
    assert [intake.admit(100, windows) for _ in range(3)] == [None, None, None]
    assert intake.admit(100, windows) == 0  # full: not counted
    assert intake.accepted(0) == {100: 3}
    # A day window over hours 96..: hour 101 has room in its own hour but not in the day.
    day = [Window(101, 10), Window(96, 4)]
    assert intake.admit(101, day) is None
    assert intake.admit(101, day) == 1
    assert intake.accepted(101) == {101: 1}
    assert intake.admit(102, []) is None  # no budget: counted all the same
    assert intake.accepted(0) == {100: 3, 101: 1, 102: 1}


def test_open_intake_store_by_url(sqlite_url: str) -> None:
    store = open_intake_store(sqlite_url)
    assert isinstance(store, SqlIntakeStore)
    store.close()
