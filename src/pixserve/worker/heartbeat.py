"""Keeps a running job's lease alive and reports its progress, from a side thread."""

from __future__ import annotations

import logging
import threading
import time

from pixserve.core.errors import Unavailable
from pixserve.queue.store import JobStore

log = logging.getLogger(__name__)

#: Progress is written at most this often (by default), so watchers see it move without
#: flooding the database (``PIXSERVE_PROGRESS_INTERVAL``).
PROGRESS_INTERVAL = 0.5


class Heartbeat:
    """Renews the lease of one job every ``interval`` seconds while the job runs.

    ``lost`` becomes set when the store says this worker no longer owns the job (its lease
    ran out and another worker took it, or the job was canceled or deleted): the worker must
    then throw its work away.
    """

    def __init__(
        self,
        jobs: JobStore,
        job_id: str,
        worker_id: str,
        *,
        lease_seconds: float,
        progress_interval: float = PROGRESS_INTERVAL,
    ) -> None:
        self.jobs = jobs
        self.job_id = job_id
        self.worker_id = worker_id
        self.lease_seconds = lease_seconds
        self.interval = lease_seconds / 3
        self.progress_interval = progress_interval
        self.lost = threading.Event()
        self._progress = 0.0
        self._written = 0.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{job_id}", daemon=True)

    def set_progress(self, fraction: float) -> None:
        """Record progress in [0, 1]; the side thread writes it soon."""
        self._progress = min(max(fraction, self._progress), 1.0)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _run(self) -> None:
        last_beat = time.monotonic()
        while not self._done.wait(min(self.progress_interval, self.interval)):
            now = time.monotonic()
            progress_moved = self._progress != self._written
            if not progress_moved and now - last_beat < self.interval:
                continue
            progress = self._progress
            try:
                owned = self.jobs.heartbeat(
                    self.job_id,
                    self.worker_id,
                    lease_seconds=self.lease_seconds,
                    progress=progress,
                )
            except Unavailable:
                # The lease may run out while the database is away; the guarded finish
                # tells us later whether the job is still ours.
                log.warning("heartbeat for job %s failed: database unavailable", self.job_id)
                continue
            last_beat = now
            self._written = progress
            if not owned:
                log.warning("worker %s lost job %s", self.worker_id, self.job_id)
                self.lost.set()
                return
