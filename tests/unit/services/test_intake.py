"""IntakeService: pause, the budget guard and the queue per style, over a migrated SQLite file."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pixserve.core.errors import BudgetExhausted, IntakePaused, StyleQueueFull
from pixserve.domain.job import NewJob
from pixserve.queue import SqlJobStore
from pixserve.queue.intake_sql import SqlIntakeStore
from pixserve.services.intake import IntakeService
from tests.support.clock import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2027, 3, 1, 10, 59, 30, tzinfo=UTC))


def make(url, settings, clock, **limits):  # type: ignore[no-untyped-def]
    jobs = SqlJobStore(url, clock=clock)
    store = SqlIntakeStore(url, clock=clock)
    return jobs, IntakeService(store, jobs, settings.model_copy(update=limits), clock=clock)


def queue(jobs, style="invert", n=1):  # type: ignore[no-untyped-def]
    for i in range(n):
        jobs.enqueue(NewJob(id=f"{style}{i:04d}", style=style, input_key="k", max_attempts=1))


def test_open_by_default_and_admits_everything(sqlite_url, settings, clock) -> None:  # type: ignore[no-untyped-def]
    _, intake = make(sqlite_url, settings, clock)
    assert intake.state().open
    for _ in range(50):
        intake.admit("invert")
    assert intake.store.accepted(0) == {int(clock.now.timestamp()) // 3600: 50}


def test_pause_closes_intake_and_resume_opens_it(sqlite_url, settings, clock) -> None:  # type: ignore[no-untyped-def]
    _, intake = make(sqlite_url, settings, clock)
    _, other_node = make(sqlite_url, settings, clock)
    intake.pause("too many bills")
    state = other_node.switch(fresh=True)
    assert state.paused and state.note == "too many bills"
    assert other_node.state().reason == "paused"
    with pytest.raises(IntakePaused) as caught:
        other_node.admit("invert")
    assert caught.value.code == "paused" and caught.value.retry_after > 0
    with pytest.raises(IntakePaused):
        intake.check()
    intake.resume()
    intake.admit("invert")


def test_hourly_budget_refuses_until_the_hour_turns(sqlite_url, settings, clock) -> None:  # type: ignore[no-untyped-def]
    _, intake = make(sqlite_url, settings, clock, budget_per_hour=2)
    intake.admit("invert")
    intake.admit("invert")
    with pytest.raises(BudgetExhausted) as caught:
        intake.admit("invert")
    assert caught.value.code == "budget_exhausted"
    assert caught.value.retry_after == 30  # 10:59:30 → 11:00
    state = intake.state()
    assert (state.open, state.reason, state.retry_after_seconds) == (
        False,
        "budget_exhausted",
        30,
    )
    clock.advance(31)
    assert intake.state().open
    intake.admit("invert")


def test_daily_budget_counts_the_whole_utc_day(sqlite_url, settings, clock) -> None:  # type: ignore[no-untyped-def]
    _, intake = make(sqlite_url, settings, clock, budget_per_day=3, budget_per_hour=10)
    intake.admit("invert")
    clock.advance(3600)
    intake.admit("invert")
    intake.admit("invert")
    with pytest.raises(BudgetExhausted) as caught:
        intake.admit("invert")
    assert caught.value.retry_after == 12 * 3600 + 30  # 11:59:30 → midnight
    clock.advance(13 * 3600)
    intake.admit("invert")


def test_deleting_jobs_gives_no_budget_back(sqlite_url, settings, clock) -> None:  # type: ignore[no-untyped-def]
    jobs, intake = make(sqlite_url, settings, clock, budget_per_hour=1)
    intake.admit("invert")
    queue(jobs)
    jobs.delete("invert0000")
    with pytest.raises(BudgetExhausted):
        intake.admit("invert")


def test_queue_per_style(sqlite_url, settings, clock) -> None:  # type: ignore[no-untyped-def]
    jobs, intake = make(sqlite_url, settings, clock, max_queue_per_style=2)
    queue(jobs, "invert", 2)
    with pytest.raises(StyleQueueFull) as caught:
        intake.admit("invert")
    assert caught.value.code == "queue_full" and caught.value.http_status == 503
    intake.admit("slow")  # another style's queue is its own


def test_stats(sqlite_url, settings, clock) -> None:  # type: ignore[no-untyped-def]
    jobs, intake = make(sqlite_url, settings, clock, budget_per_hour=5)
    queue(jobs, "invert", 2)
    intake.admit("invert")
    intake.admit("invert")
    claimed = jobs.claim("w1", lease_seconds=30)
    assert claimed
    jobs.fail(claimed[0].id, "w1", code="model_error", message="boom")
    stats = intake.stats()
    assert stats["queue"] == {"invert": {"queued": 1, "running": 0}}
    hours = stats["hours"]
    assert isinstance(hours, list) and len(hours) == 24
    assert hours[-1]["accepted"] == 2
    assert hours[-1]["failures"] == {"model_error": 1}
    assert stats["budget"] == {
        "per_hour": 5,
        "per_day": None,
        "used_this_hour": 2,
        "used_today": 2,
    }
    assert stats["intake"]["open"] is True  # type: ignore[index]
