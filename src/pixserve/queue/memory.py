"""``MemoryJobStore``: the job queue in a dict, for unit tests of the layers above it.

It keeps the semantics of :class:`~pixserve.queue.sql.SqlJobStore` (the same contract tests
run against both); one lock stands in for the database's transactions.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Collection
from dataclasses import replace
from datetime import datetime, timedelta

from pixserve.domain.job import Job, JobStatus, NewJob
from pixserve.queue import job_metrics as jm
from pixserve.queue.claim import LEASE_EXPIRED
from pixserve.queue.clock import Clock, read_clock, utc_now
from pixserve.queue.rows import tally_ahead
from pixserve.queue.run_stats import RunStats, next_mean
from pixserve.queue.upkeep import MemoryUpkeep
from pixserve.queue.wakeup import Wakeup


def _queue_order(job: Job) -> tuple[datetime, str]:
    return (job.created_at, job.id)


class MemoryJobStore(MemoryUpkeep):
    """A thread-safe in-memory :class:`~pixserve.queue.store.JobStore`.

    ``clock`` returns the current aware time; tests inject one to expire leases without
    sleeping. Jobs go in and come out as copies, so callers cannot change stored state.
    """

    def __init__(self, *, clock: Clock = utc_now) -> None:
        self._jobs: dict[str, Job] = {}
        self._stats: dict[str, RunStats] = {}
        #: (style, name, label) → [count, total], as the job_metrics table.
        self._metrics: dict[tuple[str, str, str], list[float]] = {}
        self._lock = threading.RLock()
        self._clock = clock
        self._wakeup = Wakeup()

    def __repr__(self) -> str:
        return f"MemoryJobStore({len(self._jobs)} jobs)"

    def _now(self) -> datetime:
        return read_clock(self._clock)

    def enqueue(self, new: NewJob) -> Job:
        """Insert a queued job and return it; ``ValueError`` if the id is taken."""
        now = self._now()
        job = Job(
            id=new.id,
            style=new.style,
            status=JobStatus.QUEUED,
            input_key=new.input_key,
            created_at=now,
            updated_at=now,
            crop=new.crop,
            params=copy.deepcopy(dict(new.params)),
            email=new.email,
            webhook_url=new.webhook_url,
            max_attempts=new.max_attempts,
            lang=new.lang,
        )
        with self._lock:
            if new.id in self._jobs:
                raise ValueError(f"a job with id {new.id!r} already exists")
            self._jobs[new.id] = job
            stored = _copy(job)
        self._wakeup.notify()
        return stored

    def watch(self, event: threading.Event) -> Callable[[], None]:
        """Set ``event`` whenever jobs may have become claimable; return a function to stop."""
        return self._wakeup.watch(event)

    def get(self, job_id: str) -> Job | None:
        """The job with this id, or None."""
        with self._lock:
            job = self._jobs.get(job_id)
            return None if job is None else _copy(job)

    def claim(
        self,
        worker_id: str,
        *,
        lease_seconds: float,
        styles: Collection[str] | None = None,
        limit: int = 1,
    ) -> list[Job]:
        """Requeue expired leases, then take up to ``limit`` oldest queued jobs of one style."""
        if limit < 1 or (styles is not None and not styles):
            return []
        now = self._now()
        with self._lock:
            if self._requeue_expired(now):
                self._wakeup.notify()
            queued = sorted(
                (j for j in self._jobs.values() if j.status is JobStatus.QUEUED), key=_queue_order
            )
            eligible = [j for j in queued if styles is None or j.style in styles]
            if not eligible:
                return []
            style = eligible[0].style
            batch = [j for j in queued if j.style == style][:limit]
            for job in batch:
                job.status = job.status.check_transition(JobStatus.RUNNING)
                job.worker_id = worker_id
                job.attempts += 1
                job.lease_expires_at = now + timedelta(seconds=lease_seconds)
                job.progress = 0.0
                job.started_at = now
                job.updated_at = now
            return [_copy(j) for j in batch]

    def _requeue_expired(self, now: datetime) -> int:
        requeued = 0
        for job in self._jobs.values():
            if job.status is not JobStatus.RUNNING or job.lease_expires_at is None:
                continue
            if job.lease_expires_at >= now:
                continue
            spent = job.attempts >= job.max_attempts
            job.status = job.status.check_transition(
                JobStatus.FAILED if spent else JobStatus.QUEUED
            )
            job.error_code = LEASE_EXPIRED
            job.error_message = (
                f"the lease of worker {job.worker_id} ran out before the job finished"
            )
            job.finished_at = now if spent else None
            job.worker_id = None
            job.lease_expires_at = None
            job.updated_at = now
            requeued += 1
        return requeued

    def _update_owned(
        self,
        job_id: str,
        worker_id: str,
        change: Callable[[Job], None],
        *,
        requeues: bool = False,
    ) -> bool:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.status is not JobStatus.RUNNING or job.worker_id != worker_id:
                return False
            change(job)
        if requeues:
            self._wakeup.notify()
        return True

    def heartbeat(
        self, job_id: str, worker_id: str, *, lease_seconds: float, progress: float | None = None
    ) -> bool:
        """Renew the lease (and record progress, clamped to 0–1); False if the job is lost."""
        now = self._now()

        def change(job: Job) -> None:
            job.lease_expires_at = now + timedelta(seconds=lease_seconds)
            job.updated_at = now
            if progress is not None:
                job.progress = min(max(float(progress), 0.0), 1.0)

        return self._update_owned(job_id, worker_id, change)

    def succeed(
        self,
        job_id: str,
        worker_id: str,
        *,
        result_key: str,
        content_type: str,
        result_size: tuple[int, int] | None = None,
        run_seconds: float | None = None,
    ) -> bool:
        """Mark the job succeeded with its result (clearing older errors) and record the run
        in the style's statistics; False if lost."""
        now = self._now()

        def change(job: Job) -> None:
            job.status = job.status.check_transition(JobStatus.SUCCEEDED)
            job.result_key = result_key
            job.result_content_type = content_type
            job.result_width, job.result_height = result_size or (None, None)
            job.progress = 1.0
            job.error_code = job.error_message = None
            job.lease_expires_at = None
            job.finished_at = job.updated_at = now
            if run_seconds is not None:
                self._record_run(job.style, float(run_seconds))
                self._add(jm.run_rows(job.style, job.created_at, job.started_at, now))

        return self._update_owned(job_id, worker_id, change)

    def _record_run(self, style: str, seconds: float) -> None:
        old = self._stats.get(style)
        if old is None:
            self._stats[style] = RunStats(style, 1, seconds)
        else:
            mean = next_mean(old.runs, old.mean_seconds, seconds)
            self._stats[style] = RunStats(style, old.runs + 1, mean)

    def _add(self, rows: list[dict[str, object]]) -> None:
        for row in rows:
            key = (str(row["style"]), str(row["name"]), str(row["label"]))
            count, total = self._metrics.get(key, [0, 0.0])
            self._metrics[key] = [count + 1, total + float(row["total"])]  # type: ignore[arg-type]

    def fail(self, job_id: str, worker_id: str, *, code: str, message: str) -> bool:
        """Mark the job failed for good; False if the worker lost it."""
        now = self._now()

        def change(job: Job) -> None:
            job.status = job.status.check_transition(JobStatus.FAILED)
            job.error_code, job.error_message = code, message
            job.lease_expires_at = None
            job.finished_at = job.updated_at = now
            self._add([jm.error_row(job.style, code)])

        return self._update_owned(job_id, worker_id, change)

    def retry(self, job_id: str, worker_id: str, *, code: str, message: str) -> bool:
        """Back to ``queued`` if attempts remain, else ``failed``; records the error either way."""
        now = self._now()

        def change(job: Job) -> None:
            spent = job.attempts >= job.max_attempts
            job.status = job.status.check_transition(
                JobStatus.FAILED if spent else JobStatus.QUEUED
            )
            job.error_code, job.error_message = code, message
            job.lease_expires_at = None
            job.updated_at = now
            if spent:
                job.finished_at = now
            else:
                job.worker_id = None
            self._add([jm.error_row(job.style, code)])

        return self._update_owned(job_id, worker_id, change, requeues=True)

    def release(self, job_id: str, worker_id: str) -> bool:
        """Hand the job back to the queue, giving back the attempt it was spending."""
        now = self._now()

        def change(job: Job) -> None:
            job.status = job.status.check_transition(JobStatus.QUEUED)
            job.attempts -= 1
            job.worker_id = None
            job.lease_expires_at = None
            job.progress = 0.0
            job.updated_at = now

        return self._update_owned(job_id, worker_id, change, requeues=True)

    def cancel(self, job_id: str) -> Job | None:
        """Cancel a queued or running job; a finished one comes back unchanged; None if absent."""
        now = self._now()
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                return None
            if job.status.can_become(JobStatus.CANCELED):
                job.status = JobStatus.CANCELED
                job.lease_expires_at = None
                job.finished_at = job.updated_at = now
            return _copy(job)

    def delete(self, job_id: str) -> bool:
        """Remove the job; False if there was none."""
        with self._lock:
            return self._jobs.pop(job_id, None) is not None

    def get_many(self, job_ids: Collection[str]) -> dict[str, Job]:
        """The jobs with these ids that exist, by id."""
        with self._lock:
            return {i: _copy(self._jobs[i]) for i in set(job_ids) if i in self._jobs}

    def queued_ahead_many(self, job_ids: Collection[str]) -> dict[str, dict[str, int]]:
        """The queued jobs ahead of each queued job of ``job_ids``, per style."""
        wanted = set(job_ids)
        if not wanted:
            return {}
        with self._lock:
            queued = sorted(
                (j for j in self._jobs.values() if j.status is JobStatus.QUEUED), key=_queue_order
            )
            return tally_ahead(((j.id, j.style) for j in queued), wanted)

    def position(self, job_id: str) -> int | None:
        """Queued jobs (of any style) ahead of this one in claim order; None unless queued."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.status is not JobStatus.QUEUED:
                return None
            key = _queue_order(job)
            return sum(
                1
                for j in self._jobs.values()
                if j.status is JobStatus.QUEUED and _queue_order(j) < key
            )

    def queued_ahead(self, job_id: str) -> dict[str, int] | None:
        """The queued jobs ahead of this one in claim order, per style; None unless queued."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.status is not JobStatus.QUEUED:
                return None
            key = _queue_order(job)
            ahead: dict[str, int] = {}
            for j in self._jobs.values():
                if j.status is JobStatus.QUEUED and _queue_order(j) < key:
                    ahead[j.style] = ahead.get(j.style, 0) + 1
            return ahead

    def running(self) -> list[Job]:
        """Every running job, oldest start first."""
        with self._lock:
            found = [_copy(j) for j in self._jobs.values() if j.status is JobStatus.RUNNING]
        return sorted(found, key=lambda j: (j.started_at or j.created_at, j.id))

    def counts(self) -> dict[tuple[str, JobStatus], int]:
        """Number of jobs per (style, status); pairs with no jobs are absent."""
        result: dict[tuple[str, JobStatus], int] = {}
        with self._lock:
            for job in self._jobs.values():
                result[(job.style, job.status)] = result.get((job.style, job.status), 0) + 1
        return result

    def queued_count(self) -> int:
        """Number of queued jobs, all styles."""
        with self._lock:
            return sum(1 for j in self._jobs.values() if j.status is JobStatus.QUEUED)

    def run_stats(self) -> dict[str, RunStats]:
        """What successful runs took, per style."""
        with self._lock:
            return dict(self._stats)

    def job_metrics(self) -> jm.JobMetrics:
        """The cumulative histograms and error counts per style."""
        with self._lock:
            rows = [(*key, int(c), float(t)) for key, (c, t) in self._metrics.items()]
        return jm.read(rows)

    def active_workers(self, within_seconds: float = 300.0) -> int:
        """Distinct workers holding a lease that ran until within the window, or that
        finished a job within it."""
        cutoff = self._now() - timedelta(seconds=within_seconds)
        with self._lock:
            return len(
                {
                    j.worker_id
                    for j in self._jobs.values()
                    if j.worker_id is not None
                    and (
                        (
                            j.status is JobStatus.RUNNING
                            and j.lease_expires_at is not None
                            and j.lease_expires_at >= cutoff
                        )
                        or (j.finished_at is not None and j.finished_at >= cutoff)
                    )
                }
            )

    def ping(self) -> None:
        """Always reachable."""

    def close(self) -> None:
        """Nothing to release."""


def _copy(job: Job) -> Job:
    return replace(job, params=copy.deepcopy(job.params))
