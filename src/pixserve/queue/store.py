"""The ``JobStore`` protocol: the queue and the single source of truth about jobs."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection
from typing import Protocol, runtime_checkable

from pixserve.domain.job import Job, JobStatus, NewJob


@runtime_checkable
class JobStore(Protocol):
    """Jobs, their status and their leases.

    Every state change is one atomic statement, guarded by the status (and, for a worker's
    calls, by ``worker_id``): a worker that lost its lease can never overwrite the job of the
    worker that owns it now. Methods that a worker calls return ``False`` when the guard did
    not match (lease lost, job canceled or deleted) so the worker can drop the job.
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
        """Renew the lease (and record progress); False if this worker no longer owns the job."""
        ...

    def succeed(self, job_id: str, worker_id: str, *, result_key: str, content_type: str) -> bool:
        """Mark the job succeeded with its result; False if the worker lost it."""
        ...

    def fail(self, job_id: str, worker_id: str, *, code: str, message: str) -> bool:
        """Mark the job failed for good; False if the worker lost it."""
        ...

    def retry(self, job_id: str, worker_id: str, *, code: str, message: str) -> bool:
        """After a transient error: back to ``queued`` if attempts remain, else ``failed``."""
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

    def position(self, job_id: str) -> int | None:
        """How many queued jobs are ahead of this one (0 = next); None unless it is queued."""
        ...

    def counts(self) -> dict[tuple[str, JobStatus], int]:
        """Number of jobs per (style, status), for metrics and back-pressure."""
        ...

    def queued_count(self) -> int:
        """Number of queued jobs, all styles."""
        ...

    def average_run_seconds(self, style: str | None = None, sample: int = 50) -> float | None:
        """Mean run time of the last ``sample`` succeeded jobs (of ``style``), or None."""
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

    def ping(self) -> None:
        """Raise ``Unavailable`` if the database cannot be reached."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
