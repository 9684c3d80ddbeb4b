"""The ``JobStore`` protocol: the queue and the single source of truth about jobs."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from pixserve.domain.delivery import NewDelivery
from pixserve.domain.job import Job, JobStatus, NewJob
from pixserve.domain.metrics import JobMetrics
from pixserve.queue.run_stats import RunStats


@runtime_checkable
class JobStore(Protocol):
    """Jobs, their status and their leases.

    Every state change is one atomic write, guarded by the status (and, for a worker's
    calls, by ``worker_id``): a worker that lost its lease can never overwrite the job of the
    worker that owns it now. Methods that a worker calls return ``False`` or ``None`` when the
    guard did not match (lease lost, job canceled or deleted) so the worker can drop the job.

    A job's end (``succeed``, ``fail``, a ``retry`` that spends the last attempt) is one event:
    its status, result, preview, statistics, ``news`` (the e-mails and webhooks announcing it,
    into the outbox) and ``notified_at`` are written together or not at all.
    """

    def enqueue(self, new: NewJob) -> Job:
        """Insert a queued job and return it."""
        ...

    def get(self, job_id: str) -> Job | None:
        """The job with this id, or None."""
        ...

    def claim(
        self,
        worker_id: str,
        *,
        lease_seconds: float,
        styles: Collection[str] | None = None,
        limit: int = 1,
    ) -> list[Job]:
        """Atomically take up to ``limit`` of the oldest queued jobs of one style.

        Before claiming, running jobs whose lease has run out go back to ``queued`` (or to
        ``failed`` with their last error once ``max_attempts`` are spent). Claimed jobs become
        ``running`` with ``worker_id``, a lease of ``lease_seconds`` and ``attempts + 1``.
        ``styles`` limits which styles this worker takes.
        """
        ...

    def heartbeat(
        self, job_id: str, worker_id: str, *, lease_seconds: float, progress: float | None = None
    ) -> bool:
        """Renew the lease (and record progress); False if this worker no longer owns the job.

        A negative ``lease_seconds`` ends the lease now: the next claim re-queues the job, as
        for any expired lease (worker/orphans.py, for a holder known to be dead).
        """
        ...

    def succeed(
        self,
        job_id: str,
        worker_id: str,
        *,
        result_key: str,
        content_type: str,
        result_size: tuple[int, int] | None = None,
        run_seconds: float | None = None,
        preview_key: str | None = None,
        news: Sequence[NewDelivery] | None = None,
    ) -> Job | None:
        """Mark the job succeeded with its result; the job as it is now, None if the worker
        lost it (then nothing is written).

        ``result_size`` is the result's (width, height), ``preview_key`` its preview image.
        ``run_seconds`` (how long the run took) is added to the style's :class:`RunStats`.
        ``news`` are queued in the outbox and the job marked notified; ``None`` (a worker that
        does not build them) leaves both to the housekeeper's sweep (:meth:`mark_notified`).
        """
        ...

    def fail(
        self,
        job_id: str,
        worker_id: str,
        *,
        code: str,
        message: str,
        news: Sequence[NewDelivery] | None = None,
    ) -> Job | None:
        """Mark the job failed for good, with its ``news`` as for :meth:`succeed`; the job as
        it is now, None if the worker lost it."""
        ...

    def retry(
        self,
        job_id: str,
        worker_id: str,
        *,
        code: str,
        message: str,
        news: Sequence[NewDelivery] | None = None,
    ) -> Job | None:
        """After a transient error: back to ``queued`` if attempts remain, else ``failed``
        with its ``news`` (ignored when the job is re-queued); None if the worker lost it."""
        ...

    def release(self, job_id: str, worker_id: str) -> bool:
        """Hand a running job back to the queue without spending an attempt (graceful stop)."""
        ...

    def cancel(self, job_id: str) -> Job | None:
        """Cancel a queued or running job; a finished job is returned unchanged; None if absent."""
        ...

    def delete(self, job_id: str) -> bool:
        """Remove the job's row; False if there was none."""
        ...

    def get_many(self, job_ids: Collection[str]) -> dict[str, Job]:
        """The jobs with these ids that exist, by id, read in one query (watcher hubs)."""
        ...

    def queued_ahead_many(self, job_ids: Collection[str]) -> dict[str, dict[str, int]]:
        """:meth:`queued_ahead` for several jobs in one query: the queued ones among
        ``job_ids``, each with the queued jobs ahead of it per style (absent: not queued)."""
        ...

    def position(self, job_id: str) -> int | None:
        """How many queued jobs are ahead of this one (0 = next); None unless it is queued."""
        ...

    def queued_ahead(self, job_id: str) -> dict[str, int] | None:
        """The queued jobs ahead of this one, counted per style; None unless it is queued."""
        ...

    def running(self) -> list[Job]:
        """Every running job, oldest start first."""
        ...

    def counts(self) -> dict[tuple[str, JobStatus], int]:
        """Number of jobs per (style, status), for metrics and back-pressure."""
        ...

    def queued_count(self) -> int:
        """Number of queued jobs, all styles."""
        ...

    def run_stats(self) -> dict[str, RunStats]:
        """What successful runs took, per style (styles that never succeeded are absent).

        Kept apart from the jobs: deleting jobs does not change it.
        """
        ...

    def job_metrics(self) -> JobMetrics:
        """Cumulative histograms (queue wait, run time) and error counts per style, for
        ``/metrics``: recorded with each success, failure and retry; deleting jobs does not
        change them."""
        ...

    def active_workers(self, within_seconds: float = 300.0) -> int:
        """Distinct workers that held a lease or finished a job within the window."""
        ...

    def watch(self, event: threading.Event) -> Callable[[], None]:
        """Set ``event`` whenever jobs may have become claimable; return a function to stop.

        Enqueue, retry, release and expired leases trigger it (on PostgreSQL across processes,
        through ``LISTEN/NOTIFY``). It is a hint that saves idle workers from polling fast:
        callers must still poll now and then.
        """
        ...

    def watch_moves(self, callback: Callable[[str], None]) -> Callable[[], None]:
        """Call ``callback(job_id)`` whenever a worker ends a job (success, failure, retry)
        or hands it back; return a function to stop. The moves of workers using this store
        object come at once; on PostgreSQL other processes' too (``NOTIFY``), with SQLite
        they are seen by reading. Best effort: a missed move only delays what a reader sees.
        """
        ...

    def ping(self) -> None:
        """Raise ``Unavailable`` if the database cannot be reached."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...

    # -- delivery and retention: housekeeping marks, admin moves, scans --------------------

    def transition(
        self,
        job_id: str,
        expected: JobStatus,
        new: JobStatus,
        *,
        code: str | None = None,
        message: str | None = None,
    ) -> bool:
        """Move a job from ``expected`` to ``new`` (a legal move) if it is still ``expected``.

        For cleanup and repair, not for workers: the lease is cleared, ``finished_at`` is set
        when ``new`` is terminal, and ``code``/``message`` (if given) become the job's error.
        Raises ``IllegalTransition`` for a move the status machine forbids.
        """
        ...

    def mark_input_deleted(self, job_id: str) -> bool:
        """Record that the job's original is gone from storage; False if there is no job."""
        ...

    def mark_notified(self, job_id: str, news: Sequence[NewDelivery] = ()) -> bool:
        """Queue ``news`` and record that the job's terminal deliveries are queued, in one
        transaction (for jobs whose finish did not); False if there is no such job or it was
        marked already."""
        ...

    def find_finished(
        self,
        *,
        statuses: Collection[JobStatus],
        finished_before: datetime | None = None,
        input_kept: bool | None = None,
        unnotified: bool = False,
        limit: int = 100,
    ) -> list[Job]:
        """Up to ``limit`` jobs in ``statuses``, oldest ``finished_at`` first.

        ``finished_before`` keeps jobs that finished before it; ``input_kept`` keeps jobs
        whose original is (True) or is not (False) still marked present; ``unnotified``
        keeps jobs with an e-mail or webhook whose deliveries are not queued yet.
        """
        ...

    def scan(self, *, after: str | None = None, limit: int = 500) -> list[Job]:
        """Up to ``limit`` jobs of any status in id order, starting after id ``after``."""
        ...
