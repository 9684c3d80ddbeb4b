"""How long until a job is done, from what the queue knows now.

Inputs: per-style mean run times (``JobStore.run_stats``, kept apart from the jobs, so
deleting jobs does not erase them), the queued jobs ahead per style, the running jobs with
their start and progress, and how many workers share the queue.

* A running job needs the rest of its style's mean. Once it has run longer than the mean
  (a big photo, a slow machine) the mean says nothing more, so its own progress does:
  ``elapsed / progress − elapsed``.
* A queued job starts when the workers have finished what is ahead of it: each worker is
  free once its running job is done, and then they share the queued work ahead (each job
  counted at its style's mean), like water filling the gaps; the job then needs its own
  style's mean.

A style with no statistics yet (a fresh database) borrows the pace of a running job of the
same style, measured from its progress; work ahead whose style has no figure at all counts
at the mean of the styles that have one. Without any figure for the job's own style there
is no estimate (None), rather than a made-up one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from pixserve.domain.job import Job, JobStatus


def elapsed_seconds(job: Job, now: datetime) -> float:
    """Seconds since the job's current attempt started (0 when it has not)."""
    if job.started_at is None:
        return 0.0
    return max((now - job.started_at).total_seconds(), 0.0)


def paced_total(job: Job, now: datetime) -> float | None:
    """The run time ``job``'s progress so far points to (``elapsed / progress``), or None
    before it has reported any."""
    progress = min(job.progress, 1.0)
    if job.status is not JobStatus.RUNNING or progress <= 0.0:
        return None
    return elapsed_seconds(job, now) / progress


def remaining_seconds(job: Job, mean: float | None, now: datetime) -> float | None:
    """What a running ``job`` still needs: the rest of ``mean`` while it is within it, then
    what its progress points to; None with neither to go on.

    A job past the mean that has reported no progress is given as long again as it has run.
    """
    elapsed = elapsed_seconds(job, now)
    if mean is not None and elapsed < mean:
        return mean - elapsed
    total = paced_total(job, now)
    if total is not None:
        return max(total - elapsed, 0.0)
    return elapsed if mean is not None else None


def style_means(
    means: Mapping[str, float], running: Sequence[Job], now: datetime
) -> dict[str, float]:
    """``means``, plus the pace of running jobs for styles that have no statistics yet."""
    known = dict(means)
    for job in running:
        if job.style not in means:
            total = paced_total(job, now)
            if total is not None:
                known[job.style] = max(known.get(job.style, 0.0), total)
    return known


def start_after(free_at: Sequence[float], work: float) -> float:
    """When a queued job can start: workers free after ``free_at`` seconds each share
    ``work`` seconds of jobs ahead, each taking the next share as soon as it is free."""
    free = sorted(max(t, 0.0) for t in free_at) or [0.0]
    busy = 0.0
    for k, t in enumerate(free, start=1):
        busy += t
        level = (work + busy) / k  # all k workers finish the work together at this time
        if k == len(free) or level <= free[k]:
            return level
    raise AssertionError("unreachable")  # the last k always returns


def estimate_eta(
    job: Job,
    *,
    ahead: Mapping[str, int],
    running: Sequence[Job],
    means: Mapping[str, float],
    workers: int,
    now: datetime,
) -> float | None:
    """Seconds until ``job`` is probably done, or None when there is nothing to go on.

    ``ahead``: queued jobs ahead of it per style (empty unless it is queued); ``running``:
    the running jobs (for a queued job; a running job uses only itself); ``means``: mean run
    seconds per style; ``workers``: the workers sharing the queue (at least the running
    jobs' count is assumed).
    """
    if job.status.is_terminal:
        return None
    known = style_means(means, [*running, job], now)
    if job.status is JobStatus.RUNNING:
        return remaining_seconds(job, known.get(job.style), now)
    own = known.get(job.style)
    if own is None:
        return None
    fallback = sum(known.values()) / len(known)
    busy = [remaining_seconds(r, known.get(r.style), now) for r in running if r.id != job.id]
    free_at = [fallback if left is None else left for left in busy]
    free_at += [0.0] * max(workers - len(free_at), 0)
    work = sum(count * known.get(style, fallback) for style, count in ahead.items())
    return start_after(free_at, work) + own
