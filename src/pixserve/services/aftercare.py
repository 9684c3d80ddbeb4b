"""What happens around a job's run that is not the run: news and deletion.

The worker calls :meth:`Aftercare.started` once it has claimed a job and
:meth:`Aftercare.finished` once the job has left ``running``. Neither ever fails the job: an
error here is logged, and the periodic sweep and cleanup catch up later.
"""

from __future__ import annotations

import logging

from pixserve.domain.job import Job
from pixserve.queue.store import JobStore
from pixserve.services.delivery import DeliveryService
from pixserve.services.retention import RetentionService

log = logging.getLogger(__name__)


class Aftercare:
    """Queues a job's deliveries and deletes what must go when it ends."""

    def __init__(
        self,
        jobs: JobStore,
        *,
        deliveries: DeliveryService | None = None,
        retention: RetentionService | None = None,
    ) -> None:
        self.jobs = jobs
        self.deliveries = deliveries
        self.retention = retention

    def started(self, job: Job) -> None:
        """The job is running: queue its ``job.running`` webhook."""
        if self.deliveries is None:
            return
        try:
            self.deliveries.job_started(job)
        except Exception:
            log.exception("could not queue the job.running event of job %s", job.id)

    def finished(self, job_id: str) -> None:
        """The job left ``running``: if it is over, queue its news and delete its original."""
        try:
            job = self.jobs.get(job_id)
            if job is None or not job.status.is_terminal:
                return
            if self.deliveries is not None:
                self.deliveries.job_finished(job)
            if self.retention is not None:
                self.retention.job_finished(job)
        except Exception:
            log.exception("aftercare of job %s failed; the periodic cleanup will retry", job_id)
