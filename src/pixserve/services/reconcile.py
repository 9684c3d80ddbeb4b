"""Reconcile the job database with the blob store, which can drift apart.

Finds blobs that no job refers to (an orphan: its job row is gone, or it is a stray of a
finished job) and jobs whose images are missing (a queued or running job without its
original, a succeeded job without its result or preview). ``fix`` deletes the orphans, fails
a running job whose original is gone, and marks a queued job without its original or a
succeeded job without its result ``expired`` (the status machine lets neither fail nor run
again), with ``blob_not_found`` as the reason.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from pixserve.core.errors import BlobNotFound
from pixserve.domain.job import Job, JobStatus
from pixserve.queue.store import JobStore
from pixserve.queue.upkeep import iter_all_jobs
from pixserve.services import keys
from pixserve.storage.base import BlobStore

log = logging.getLogger(__name__)

JOBS_PREFIX = "jobs/"


@dataclass(frozen=True)
class BrokenJob:
    """A job whose image is missing from storage."""

    job_id: str
    status: JobStatus
    missing: str
    action: str

    def describe(self) -> str:
        """One line for people."""
        return f"job {self.job_id} ({self.status.value}): {self.missing} missing → {self.action}"


@dataclass
class ReconcileReport:
    """What a reconcile found, and whether it fixed it."""

    orphan_blobs: list[str] = field(default_factory=list)
    broken_jobs: list[BrokenJob] = field(default_factory=list)
    jobs_checked: int = 0
    blobs_checked: int = 0
    fixed: bool = False

    @property
    def clean(self) -> bool:
        """Whether database and storage agree."""
        return not self.orphan_blobs and not self.broken_jobs


class Reconciler:
    """Compares every job with the blobs under ``jobs/``."""

    def __init__(self, jobs: JobStore, blobs: BlobStore) -> None:
        self.jobs = jobs
        self.blobs = blobs

    def scan(self) -> ReconcileReport:
        """Find orphan blobs and broken jobs; change nothing."""
        report = ReconcileReport()
        # Blobs first: a job queued after this listing cannot make its blob look orphaned.
        stored = set(self.blobs.keys(JOBS_PREFIX))
        report.blobs_checked = len(stored)
        referenced: set[str] = set()
        by_job: dict[str, Job] = {}
        for job in iter_all_jobs(self.jobs):
            report.jobs_checked += 1
            by_job[job.id] = job
            wanted = _wanted_keys(job)
            referenced.update(wanted)
            for key in wanted:
                if key not in stored and not self.blobs.exists(key):
                    report.broken_jobs.append(_broken(job, key))
                    break
        for key in sorted(stored - referenced):
            owner = by_job.get(_job_id(key))
            # A running job's fresh result is not in its row yet; leave active jobs alone.
            if owner is not None and not owner.status.is_terminal:
                continue
            if owner is not None and key in _kept_keys(owner):
                continue
            report.orphan_blobs.append(key)
        return report

    def fix(self, report: ReconcileReport) -> ReconcileReport:
        """Delete the orphans and settle the broken jobs of ``report``; return it, fixed."""
        for key in report.orphan_blobs:
            current = self.jobs.get(_job_id(key))
            if current is not None and not current.status.is_terminal:
                continue  # submitted since the scan: its original is not an orphan
            self.blobs.delete(key)
        for broken in report.broken_jobs:
            if broken.status is JobStatus.SUCCEEDED:
                for key in list(self.blobs.keys(keys.job_prefix(broken.job_id))):
                    self.blobs.delete(key)
                self.jobs.transition(
                    broken.job_id,
                    JobStatus.SUCCEEDED,
                    JobStatus.EXPIRED,
                    code=BlobNotFound.code,
                    message=f"the {broken.missing} was missing from storage",
                )
                self.jobs.mark_input_deleted(broken.job_id)
            else:
                # A running job can fail; a queued one may only expire (the status machine).
                self.jobs.transition(
                    broken.job_id,
                    broken.status,
                    JobStatus.FAILED if broken.status is JobStatus.RUNNING else JobStatus.EXPIRED,
                    code=BlobNotFound.code,
                    message=f"the {broken.missing} was missing from storage",
                )
        report.fixed = True
        log.info(
            "reconcile: deleted %d orphan blobs, settled %d broken jobs",
            len(report.orphan_blobs),
            len(report.broken_jobs),
        )
        return report


def _job_id(key: str) -> str:
    parts = key.split("/")
    return parts[1] if len(parts) > 2 else ""


def _wanted_keys(job: Job) -> list[str]:
    """The blobs the job must have now."""
    if job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
        return [job.input_key]
    if job.status is JobStatus.SUCCEEDED:
        return [k for k in (job.result_key, job.preview_key) if k]
    return []


def _kept_keys(job: Job) -> set[str]:
    """Blobs a finished job may still have without being wrong (its original, not yet due)."""
    if job.status is JobStatus.SUCCEEDED and job.input_deleted_at is None:
        return {job.input_key}
    return set()


def _broken(job: Job, key: str) -> BrokenJob:
    if job.status is JobStatus.SUCCEEDED:
        what = "preview" if key == job.preview_key else "result"
        return BrokenJob(job.id, job.status, what, "expired")
    action = "failed" if job.status is JobStatus.RUNNING else "expired"
    return BrokenJob(job.id, job.status, "original", action)
