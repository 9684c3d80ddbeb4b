"""The job use cases: submit, look up, cancel and delete, fetch the result."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

from pixserve.core.errors import (
    BlobNotFound,
    EmailUnavailable,
    InvalidCrop,
    InvalidEmail,
    JobNotFound,
    LinkRequired,
    QueueFull,
    ResultExpired,
    ResultNotReady,
)
from pixserve.core.i18n import N_, choose_language
from pixserve.core.settings import Settings
from pixserve.domain.job import Crop, Job, JobStatus, NewJob, new_job_id
from pixserve.imaging import CheckedImage
from pixserve.notify.targets import Resolver, check_target, system_resolver
from pixserve.queue.clock import Clock, read_clock, utc_now
from pixserve.queue.outbox import Outbox
from pixserve.queue.store import JobStore
from pixserve.services import keys
from pixserve.services.eta import estimate_eta
from pixserve.services.intake import IntakeService
from pixserve.services.links import ResultLinks
from pixserve.services.ports import StyleCatalog
from pixserve.services.ttl_cache import TtlCache
from pixserve.services.uploads import check_upload
from pixserve.services.views import DeliveryInfo, JobView
from pixserve.storage.base import BlobStore

log = logging.getLogger(__name__)

MAX_EMAIL_LENGTH = 254


@dataclass(frozen=True)
class Submission:
    """What a client sends: the file's bytes and the options of ``POST /v1/jobs``."""

    data: bytes
    style: str
    crop: str | None = None
    email: str | None = None
    webhook_url: str | None = None
    #: ``lang`` form field; else the language is picked from ``accept_language``.
    lang: str | None = None
    accept_language: str | None = None


@dataclass(frozen=True)
class Result:
    """A finished job's image (or, from a store that presigns, where to fetch it)."""

    data: bytes
    content_type: str
    extension: str
    redirect_url: str | None = None


class JobService:
    """Use cases on jobs, over a job store, a blob store and a style catalog.

    With ``links`` the full-size result of a style with a preview is only served through a
    signed link; with ``outbox`` the job's deliveries show in its view and go with it;
    ``email_enabled`` says whether an SMTP server is configured; ``resolver`` resolves
    webhook hosts (tests pass a fake one); ``clock`` is the time ETAs count from (the job
    store's, in tests).

    ``eta_cache_seconds``: how long the node keeps the ETA's inputs (per-style run times,
    running jobs, active workers) before reading them again, so that a crowd polling its
    jobs costs one read of each per interval, not one per request (0: read every time);
    ``monotonic`` is that cache's clock.
    """

    def __init__(
        self,
        jobs: JobStore,
        blobs: BlobStore,
        catalog: StyleCatalog,
        settings: Settings,
        *,
        links: ResultLinks | None = None,
        outbox: Outbox | None = None,
        email_enabled: bool = False,
        resolver: Resolver = system_resolver,
        webhook_secret: Callable[[str], str] | None = None,
        clock: Clock = utc_now,
        eta_cache_seconds: float = 0.0,
        monotonic: Callable[[], float] = time.monotonic,
        intake: IntakeService | None = None,
    ) -> None:
        self.intake = intake  # pause, budget, queue per style (issue #14)
        self.jobs = jobs
        self.blobs = blobs
        self.catalog = catalog
        self.settings = settings
        self.links = links
        self.outbox = outbox
        self.email_enabled = email_enabled
        self.resolver = resolver
        self._webhook_secret = webhook_secret
        self._clock = clock
        # The ETA's inputs, each kept for ``eta_cache_seconds`` (see TtlCache).
        self._running: TtlCache[list[Job]] = TtlCache(eta_cache_seconds, clock=monotonic)
        self._means: TtlCache[dict[str, float]] = TtlCache(eta_cache_seconds, clock=monotonic)
        self._workers: TtlCache[int] = TtlCache(eta_cache_seconds, clock=monotonic)

    def validate_image(self, data: bytes) -> CheckedImage:
        """Check ``data`` decodes within the service's limits, or raise the matching
        ``ImageError``."""
        return check_upload(data, self.settings)

    def submit(self, submission: Submission) -> JobView:
        """Validate, store the original and queue a job; return its first view.

        The image is decoded here (a JPEG at an eighth of its size, every byte still read) so
        a bad upload is refused at once with a clear code, not discovered later by a worker.
        If queueing fails the stored original is removed, so nothing is left half-written.
        """
        self.catalog.get(submission.style)
        crop = Crop.parse(submission.crop) if submission.crop else None
        email = _clean_email(submission.email)
        if email and not self.email_enabled:
            raise EmailUnavailable()
        webhook_url = self.check_webhook(submission.webhook_url)
        lang = choose_language(submission.lang, accept_language=submission.accept_language)
        decoded = self.validate_image(submission.data)
        if crop is not None:
            check_crop(crop, decoded.size)
        if self.jobs.queued_count() >= self.settings.max_queue:
            raise QueueFull()
        if self.intake is not None:
            self.intake.admit(submission.style)

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
                    lang=lang,
                )
            )
        except BaseException:
            self.blobs.delete(key)
            raise
        log.info("job %s queued (style %s)", job.id, job.style)
        return self.view(job)

    def webhook_secret(self, job: JobView | Job) -> str | None:
        """The job's own ``whsec_…`` secret, told once at submit; None with a shared one."""
        if self._webhook_secret is None:
            return None
        return self._webhook_secret(job.id)

    def check_webhook(self, url: str | None) -> str | None:
        """The cleaned webhook URL, or ``WebhookRefused`` if it may not be called."""
        if not url or not url.strip():
            return None
        url = url.strip()
        check_target(url, allow_private=self.settings.webhook_allow_private, resolver=self.resolver)
        return url

    def get(self, job_id: str) -> Job:
        """The job, or ``JobNotFound``."""
        job = self.jobs.get(job_id)
        if job is None:
            raise JobNotFound()
        return job

    def status(self, job_id: str) -> JobView:
        """The job as its submitter sees it, with queue position and ETA."""
        return self.view(self.get(job_id))

    def views(self, job_ids: Collection[str]) -> dict[str, JobView]:
        """The views of the jobs among ``job_ids`` that exist, by id, in two reads of the
        job store (the jobs, and the queue ahead of the queued ones) plus the cached ETA
        inputs: what a node's event hub asks once per tick for all its watchers."""
        found = self.jobs.get_many(job_ids)
        queued = [i for i, job in found.items() if job.status is JobStatus.QUEUED]
        ahead = self.jobs.queued_ahead_many(queued) if queued else {}
        views: dict[str, JobView] = {}
        for job_id, job in found.items():
            if job.status is JobStatus.QUEUED and job_id not in ahead:
                views[job_id] = self.view(job)  # claimed between the two reads: rare
            else:
                views[job_id] = self._view(job, ahead.get(job_id))
        return views

    def view(self, job: Job) -> JobView:
        """Add position and ETA to ``job`` (see :mod:`pixserve.services.eta`)."""
        ahead = self.jobs.queued_ahead(job.id) if job.status is JobStatus.QUEUED else None
        if ahead is None and job.status is JobStatus.QUEUED:
            # A worker took it between the caller's read and ours: show it as it is now.
            job = self.jobs.get(job.id) or job
        return self._view(job, ahead)

    def _mean_seconds(self) -> dict[str, float]:
        return {s: stats.mean_seconds for s, stats in self.jobs.run_stats().items()}

    def _view(self, job: Job, ahead: Mapping[str, int] | None) -> JobView:
        """``job``'s view, ``ahead`` being the queue ahead of it (None unless queued)."""
        position = None if ahead is None else sum(ahead.values())
        eta = None
        if not job.status.is_terminal:
            queued = job.status is JobStatus.QUEUED
            eta = estimate_eta(
                job,
                ahead=ahead or {},
                running=self._running.get("all", self.jobs.running) if queued else (),
                means=self._means.get("all", self._mean_seconds),
                workers=self._workers.get("all", self.jobs.active_workers) if queued else 1,
                now=read_clock(self._clock),
            )
        link = None
        if self.links is not None and job.preview_key and job.status is JobStatus.SUCCEEDED:
            link = self.links.path(job, "result")
        deliveries: tuple[DeliveryInfo, ...] = ()
        if self.outbox is not None and (job.email or job.webhook_url):
            deliveries = tuple(DeliveryInfo.of(d) for d in self.outbox.for_job(job.id))
        return JobView.of(
            job, position=position, eta_seconds=eta, result_link=link, deliveries=deliveries
        )

    def result(
        self,
        job_id: str,
        *,
        variant: str = "result",
        expires: str | None = None,
        signature: str | None = None,
    ) -> Result:
        """The result (or ``variant="preview"``) image of a succeeded job.

        With ``expires``/``signature`` the link is checked first (``LinkError``,
        ``LinkExpired``). The full-size result of a job with a preview needs a signed link
        (``LinkRequired``). A result deleted by retention is ``ResultExpired``.
        """
        signed = expires is not None or signature is not None
        if signed and self.links is not None:
            self.links.verify(job_id, variant, expires, signature)
        job = self.jobs.get(job_id)
        if job is None:
            if signed:
                raise ResultExpired(N_("This picture has been deleted."))
            raise JobNotFound()
        if job.status is JobStatus.EXPIRED:
            raise ResultExpired()
        if job.status is not JobStatus.SUCCEEDED or not job.result_key:
            raise ResultNotReady(
                N_("The job is {status}; it has no result yet."), status=job.status.value
            )
        if variant == "preview":
            key = job.preview_key
            if not key:
                raise ResultNotReady(N_("This style makes no preview."))
            content_type = _content_type(key)
        else:
            key = job.result_key
            if job.preview_key and self.links is not None and not signed:
                raise LinkRequired()
            content_type = job.result_content_type or "application/octet-stream"
        extension = key.rsplit(".", 1)[-1]
        if signed and self.links is not None:
            direct = self.links.direct_url(
                key, filename=f"pixserve-{job.id}.{extension}", content_type=content_type
            )
            if direct:
                return Result(b"", content_type, extension, redirect_url=direct)
        try:
            data = self.blobs.get(key)
        except BlobNotFound:
            raise ResultNotReady(N_("The result has been deleted.")) from None
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
        if self.outbox is not None:
            self.outbox.delete_for_job(job_id)
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
    bad = any(c.isspace() or c in '<>,;"' or ord(c) < 0x20 for c in email)
    if len(email) > MAX_EMAIL_LENGTH or not local or "." not in domain or bad:
        raise InvalidEmail(N_("“{email}” is not an e-mail address."), email=email)
    return email


def _content_type(key: str) -> str:
    extension = key.rsplit(".", 1)[-1].lower()
    return {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png"}.get(
        extension, "image/webp" if extension == "webp" else "application/octet-stream"
    )
