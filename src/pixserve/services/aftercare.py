"""What happens around a job's run that is not the run: news and deletion.

The worker calls :meth:`Aftercare.started` once it has claimed a job, :meth:`Aftercare.news`
to build the deliveries its finish queues in the same transaction, and
:meth:`Aftercare.finished` once the job has left ``running``. None of them ever fails the
job: an error here is logged, and the periodic sweep and cleanup catch up later.
"""

from __future__ import annotations

import logging

from pixserve.domain.delivery import NewDelivery
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

    def news(self, ending: Job) -> list[NewDelivery] | None:
        """The deliveries announcing ``ending`` (the row a running job is about to become),
        for its finish to queue; None if this process builds none (no delivery service, or
        building them failed): the job is then left unnotified for the sweep."""
        if self.deliveries is None:
            return None
        try:
            return self.deliveries.news(ending)
        except Exception:
            log.exception("could not build the news of job %s; the sweep will", ending.id)
            return None

    def finished(self, job_id: str, ended: Job | None = None) -> None:
        """The job left ``running`` (``ended``: its row as its finish returned it, which
        saves reading it): if it is over, queue news its finish did not, delete its original."""
        try:
            job = ended or self.jobs.get(job_id)
            if job is None or not job.status.is_terminal:
                return
            if self.deliveries is not None:
                self.deliveries.job_finished(job)
            if self.retention is not None:
                self.retention.job_finished(job)
        except Exception:
            log.exception("aftercare of job %s failed; the periodic cleanup will retry", job_id)
