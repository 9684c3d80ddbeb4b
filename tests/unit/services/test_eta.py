"""ETAs from per-style means, the jobs ahead and what running jobs still need."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pixserve.domain.job import Job, JobStatus
from pixserve.services.eta import estimate_eta, remaining_seconds, start_after

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def job(status: JobStatus, style: str = "s", *, ran: float | None = None, **kw) -> Job:
    started = None if ran is None else NOW - timedelta(seconds=ran)
    return Job(
        id=kw.pop("id", "j"),
        style=style,
        status=status,
        input_key="k",
        created_at=NOW,
        updated_at=NOW,
        started_at=started,
        **kw,
    )


def queued_eta(**kw) -> float | None:
    args = {"ahead": {}, "running": [], "means": {"s": 2.0}, "workers": 1, "now": NOW} | kw
    return estimate_eta(job(JobStatus.QUEUED), **args)


def test_next_in_an_idle_queue_needs_one_run():
    assert queued_eta() == 2.0


def test_jobs_ahead_are_shared_among_workers_each_at_its_styles_mean():
    assert queued_eta(ahead={"s": 4}, workers=2) == pytest.approx(4 * 2.0 / 2 + 2.0)
    assert queued_eta(ahead={"s": 1, "slow": 2}, means={"s": 2.0, "slow": 10.0}) == 24.0


def test_a_job_behind_a_long_running_one_waits_for_it():
    """The issue's case: one worker busy for 47 s; the next job must not say "1 s"."""
    long = job(JobStatus.RUNNING, "s", ran=40.0, progress=40 / 47, id="long")
    eta = queued_eta(running=[long], means={"s": 1.0})
    assert eta == pytest.approx(7.0 + 1.0)  # what the long one still needs, then our own run


def test_a_second_worker_takes_the_job_while_the_first_is_busy():
    long = job(JobStatus.RUNNING, "s", ran=40.0, progress=0.5, id="long")
    assert queued_eta(running=[long], workers=2) == 2.0


def test_running_jobs_within_their_mean_need_the_rest_of_it():
    running = job(JobStatus.RUNNING, ran=1.5)
    assert remaining_seconds(running, 2.0, NOW) == 0.5
    eta = estimate_eta(running, ahead={}, running=[], means={"s": 2.0}, workers=1, now=NOW)
    assert eta == 0.5


def test_past_the_mean_progress_says_what_is_left():
    late = job(JobStatus.RUNNING, ran=30.0, progress=0.6)
    assert remaining_seconds(late, 10.0, NOW) == pytest.approx(30 / 0.6 - 30)
    silent = job(JobStatus.RUNNING, ran=30.0, progress=0.0)
    assert remaining_seconds(silent, 10.0, NOW) == 30.0  # as long again, never "any moment"
    assert remaining_seconds(silent, None, NOW) is None


def test_without_statistics_a_running_job_of_the_style_sets_the_pace():
    """A fresh database: no means yet, but the running job's progress tells its pace."""
    first = job(JobStatus.RUNNING, "new", ran=10.0, progress=0.25, id="first")
    eta = estimate_eta(first, ahead={}, running=[], means={}, workers=1, now=NOW)
    assert eta == pytest.approx(30.0)
    waiting = job(JobStatus.QUEUED, "new")
    eta = estimate_eta(waiting, ahead={}, running=[first], means={}, workers=1, now=NOW)
    assert eta == pytest.approx(30.0 + 40.0)


def test_no_estimate_without_any_figure_for_the_style_or_when_done():
    assert queued_eta(means={}) is None
    assert queued_eta(means={"other": 3.0}) is None
    done = job(JobStatus.SUCCEEDED)
    assert estimate_eta(done, ahead={}, running=[], means={"s": 1.0}, workers=1, now=NOW) is None


def test_work_of_an_unknown_style_ahead_counts_at_the_known_mean():
    assert queued_eta(ahead={"mystery": 1}, means={"s": 2.0}) == 4.0


@pytest.mark.parametrize(
    ("free_at", "work", "start"),
    [
        ([0.0], 0.0, 0.0),
        ([47.0], 0.0, 47.0),
        ([47.0], 3.0, 50.0),
        ([0.0, 47.0], 2.0, 2.0),
        ([10.0, 10.0], 4.0, 12.0),
        ([1.0, 3.0, 9.0], 6.0, 5.0),
        ([], 5.0, 5.0),
    ],
)
def test_start_after_fills_the_workers_free_time(free_at, work, start):
    assert start_after(free_at, work) == pytest.approx(start)
