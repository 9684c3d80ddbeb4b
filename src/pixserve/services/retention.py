"""Keeping images only as long as promised, and saying so.

* the original goes when its job finishes (``delete_originals``; otherwise with the result);
* a failed or canceled job's images go at once;
* a result goes ``result_ttl_hours`` after its job finished, and the job becomes ``expired``;
* a finished job's record (with its e-mail address and webhook URL) goes after
  ``record_ttl_hours``, with its deliveries.

Workers call :meth:`RetentionService.job_finished` right after a job ends and
:meth:`RetentionService.run_once` periodically; ``pixserve cleanup`` runs it once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pixserve.core.settings import Settings
from pixserve.domain.job import Job, JobStatus
from pixserve.queue.outbox import Outbox
from pixserve.queue.store import JobStore
from pixserve.services import keys
from pixserve.storage.base import BlobStore

log = logging.getLogger(__name__)

_TERMINAL = frozenset(s for s in JobStatus if s.is_terminal)
_DEAD = frozenset({JobStatus.FAILED, JobStatus.CANCELED})
BATCH = 200


@dataclass
class CleanupReport:
    """What one cleanup pass deleted."""

    originals: int = 0
    failed: int = 0
    expired: int = 0
    records: int = 0

    @property
    def total(self) -> int:
        """Jobs touched in this pass."""
        return self.originals + self.failed + self.expired + self.records


@dataclass(frozen=True)
class RetentionPolicy:
    """The promise, in numbers: what the privacy page and ``/v1/config`` state."""

    delete_originals: bool
    result_ttl_hours: float
    record_ttl_hours: float
    link_ttl_hours: float

    @classmethod
    def of(cls, settings: Settings) -> RetentionPolicy:
        """The policy the settings make."""
        return cls(
            delete_originals=settings.delete_originals,
            result_ttl_hours=settings.result_ttl_hours,
            record_ttl_hours=settings.record_ttl_hours,
            link_ttl_hours=settings.link_ttl_seconds / 3600.0,
        )


class RetentionService:
    """Deletes images and records when the policy says so."""

    def __init__(
        self,
        jobs: JobStore,
        blobs: BlobStore,
        outbox: Outbox | None,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.jobs = jobs
        self.blobs = blobs
        self.outbox = outbox
        self.settings = settings
        self.policy = RetentionPolicy.of(settings)
        self.clock = clock

    def _delete_all(self, job_id: str) -> None:
        for key in list(self.blobs.keys(keys.job_prefix(job_id))):
            self.blobs.delete(key)

    def job_finished(self, job: Job) -> bool:
        """Delete what must not outlive a just-finished job; whether anything was due."""
        if job.status not in _TERMINAL or job.input_deleted_at is not None:
            return False
        if job.status in _DEAD:
            self._delete_all(job.id)
        elif job.status is JobStatus.SUCCEEDED and self.settings.delete_originals:
            self.blobs.delete(job.input_key)
        else:
            return False
        self.jobs.mark_input_deleted(job.id)
        return True

    def run_once(self) -> CleanupReport:
        """One pass over every rule; returns how many jobs each rule touched."""
        report = CleanupReport()
        now = self.clock()
        for job in self._each(statuses=_DEAD, input_kept=True):
            self.job_finished(job)
            report.failed += 1
        if self.settings.delete_originals:
            for job in self._each(statuses={JobStatus.SUCCEEDED}, input_kept=True):
                report.originals += int(self.job_finished(job))
        cutoff = now - timedelta(hours=self.settings.result_ttl_hours)
        for job in self._each(statuses={JobStatus.SUCCEEDED}, finished_before=cutoff):
            self.expire(job)
            report.expired += 1
        cutoff = now - timedelta(hours=self.settings.record_ttl_hours)
        for job in self._each(statuses=_TERMINAL, finished_before=cutoff):
            self._delete_all(job.id)
            if self.outbox is not None:
                self.outbox.delete_for_job(job.id)
            self.jobs.delete(job.id)
            report.records += 1
        if report.total:
            log.info(
                "cleanup: %d originals, %d failed/canceled, %d results expired, %d records",
                report.originals,
                report.failed,
                report.expired,
                report.records,
            )
        return report

    def expire(self, job: Job) -> bool:
        """Delete a succeeded job's images and mark it ``expired``; False if it moved on."""
        self._delete_all(job.id)
        if not self.jobs.transition(job.id, JobStatus.SUCCEEDED, JobStatus.EXPIRED):
            return False
        self.jobs.mark_input_deleted(job.id)
        return True

    def _each(
        self,
        *,
        statuses: frozenset[JobStatus] | set[JobStatus],
        input_kept: bool | None = None,
        finished_before: datetime | None = None,
    ) -> Iterator[Job]:
        """Every matching job, a batch at a time; handled jobs leave the match before the
        next batch is read (one that does not is skipped, not read again)."""
        seen: set[str] = set()
        while True:
            batch = self.jobs.find_finished(
                statuses=statuses,
                input_kept=input_kept,
                finished_before=finished_before,
                limit=BATCH,
            )
            fresh = [j for j in batch if j.id not in seen]
            if not fresh:
                return
            for job in fresh:
                seen.add(job.id)
                yield job
