"""The job use cases: submit, look up, cancel and delete, fetch the result."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from pixserve.core.errors import (
    BlobNotFound,
    InvalidCrop,
    InvalidRequest,
    JobNotFound,
    QueueFull,
    ResultNotReady,
)
from pixserve.core.settings import Settings
from pixserve.domain.job import Crop, Job, JobStatus, NewJob, new_job_id
from pixserve.imaging import DecodedImage, decode_image
from pixserve.queue.store import JobStore
from pixserve.services import keys
from pixserve.services.ports import StyleCatalog
from pixserve.services.views import JobView, estimate_eta
from pixserve.storage.base import BlobStore

log = logging.getLogger(__name__)

MAX_EMAIL_LENGTH = 254
MAX_URL_LENGTH = 2048


@dataclass(frozen=True)
class Submission:
    """What a client sends: the file's bytes and the options of ``POST /v1/jobs``."""

    data: bytes
    style: str
    crop: str | None = None
    email: str | None = None
    webhook_url: str | None = None


@dataclass(frozen=True)
class Result:
    """A finished job's image."""

    data: bytes
    content_type: str
    extension: str


class JobService:
    """Use cases on jobs, over a job store, a blob store and a style catalog."""

    def __init__(
        self, jobs: JobStore, blobs: BlobStore, catalog: StyleCatalog, settings: Settings
    ) -> None:
        self.jobs = jobs
        self.blobs = blobs
        self.catalog = catalog
        self.settings = settings

    def validate_image(self, data: bytes) -> DecodedImage:
        """Decode ``data`` with the service's limits, or raise the matching ``ImageError``."""
        return decode_image(
            data, max_bytes=self.settings.max_upload_bytes, max_pixels=self.settings.max_pixels
        )

    def submit(self, submission: Submission) -> JobView:
        """Validate, store the original and queue a job; return its first view.

        The image is fully decoded here so a bad upload is refused at once with a clear code,
        not discovered later by a worker. If queueing fails the stored original is removed,
        so nothing is left half-written.
        """
        self.catalog.get(submission.style)
        crop = Crop.parse(submission.crop) if submission.crop else None
        email = _clean_email(submission.email)
        webhook_url = _clean_url(submission.webhook_url)
        decoded = self.validate_image(submission.data)
        if crop is not None:
            check_crop(crop, decoded.size)
        if self.jobs.queued_count() >= self.settings.max_queue:
            raise QueueFull()

        job_id = new_job_id()
        key = keys.input_key(job_id, decoded.format.extension)
        self.blobs.put(key, submission.data)
        try:
            job = self.jobs.enqueue(
                NewJob(
                    id=job_id,
                    style=submission.style,
                    input_key=key,
                    crop=crop,
                    email=email,
                    webhook_url=webhook_url,
                    max_attempts=self.settings.max_attempts,
                )
            )
        except BaseException:
            self.blobs.delete(key)
            raise
        log.info("job %s queued (style %s)", job.id, job.style)
        return self.view(job)

    def get(self, job_id: str) -> Job:
        """The job, or ``JobNotFound``."""
        job = self.jobs.get(job_id)
        if job is None:
            raise JobNotFound()
        return job

    def status(self, job_id: str) -> JobView:
        """The job as its submitter sees it, with queue position and ETA."""
        return self.view(self.get(job_id))

    def view(self, job: Job) -> JobView:
        """Add position and ETA to ``job``."""
        position = self.jobs.position(job.id) if job.status is JobStatus.QUEUED else None
        eta = None
        if not job.status.is_terminal:
            eta = estimate_eta(
                job,
                position=position,
                average_run_seconds=self.jobs.average_run_seconds(job.style),
                workers=self.jobs.active_workers(),
                now=datetime.now(UTC),
            )
        return JobView.of(job, position=position, eta_seconds=eta)

    def result(self, job_id: str) -> Result:
        """The result image of a succeeded job, or ``ResultNotReady``."""
        job = self.get(job_id)
        if job.status is not JobStatus.SUCCEEDED or not job.result_key:
            raise ResultNotReady(f"the job is {job.status.value}; it has no result")
        try:
            data = self.blobs.get(job.result_key)
        except BlobNotFound:
            raise ResultNotReady("the result has been deleted") from None
        content_type = job.result_content_type or "application/octet-stream"
        extension = job.result_key.rsplit(".", 1)[-1]
        return Result(data=data, content_type=content_type, extension=extension)

    def delete(self, job_id: str) -> Job:
        """Cancel the job if it is not finished, then delete its images and its record.

        A worker still running it notices at its next heartbeat or when it tries to finish,
        and throws its result away.
        """
        job = self.jobs.cancel(job_id)
        if job is None:
            raise JobNotFound()
        for key in list(self.blobs.keys(keys.job_prefix(job_id))):
            self.blobs.delete(key)
        self.jobs.delete(job_id)
        log.info("job %s deleted (was %s)", job_id, job.status.value)
        return job


def check_crop(crop: Crop, size: tuple[int, int]) -> None:
    """Raise ``InvalidCrop`` unless ``crop`` lies inside an upright image of ``size`` (w, h)."""
    width, height = size
    if crop.x + crop.w > width or crop.y + crop.h > height:
        raise InvalidCrop(
            f"crop {crop} reaches outside the {width}×{height} image (after EXIF rotation)"
        )


def _clean_email(email: str | None) -> str | None:
    if not email or not email.strip():
        return None
    email = email.strip()
    local, _, domain = email.rpartition("@")
    if len(email) > MAX_EMAIL_LENGTH or not local or "." not in domain or " " in email:
        raise InvalidRequest(f"{email!r} is not an e-mail address")
    return email


def _clean_url(url: str | None) -> str | None:
    if not url or not url.strip():
        return None
    url = url.strip()
    if len(url) > MAX_URL_LENGTH or not url.startswith(("http://", "https://")):
        raise InvalidRequest("webhook_url must be an http(s) URL")
    return url
