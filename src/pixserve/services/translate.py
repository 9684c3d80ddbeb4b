"""One call for one image: a durable job underneath, and what became of it.

``POST /v1/translate`` queues the image through :meth:`JobService.submit` (so every intake
check of ``POST /v1/jobs`` applies, and a crash loses nothing), then asks :meth:`finished`
whenever the job may be over, until it is or the caller's deadline passes. The web
process never runs a model: workers do, wherever they are.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from pixserve.core.errors import JobNotFound, PixserveError, ResultExpired
from pixserve.core.settings import Settings
from pixserve.domain.job import JobStatus
from pixserve.services.jobs import JobService, Result, Submission
from pixserve.services.views import JobView


@dataclass(frozen=True)
class Finished:
    """A job that reached a final status: its view, and its image when it succeeded."""

    view: JobView
    result: Result | None = None


class TranslateService:
    """Submit a job and tell when it is finished, for callers that wait for the image."""

    def __init__(self, jobs: JobService, settings: Settings) -> None:
        self.jobs = jobs
        self.settings = settings

    def submit(self, submission: Submission) -> JobView:
        """Queue the image exactly as ``POST /v1/jobs`` does (same checks, same errors)."""
        return self.jobs.submit(submission)

    def wait_seconds(self, asked: float | None) -> float:
        """How long to wait: what the caller asked, at most ``translate_wait_seconds``."""
        limit = self.settings.translate_wait_seconds
        return limit if asked is None else max(0.0, min(asked, limit))

    def finished(self, job_id: str) -> Finished | None:
        """None while the job is queued or running (one read); else its outcome.

        A succeeded job comes with its full-size image: the caller submitted it, and the
        job's view would give it the signed link to that image anyway. A failed job comes
        without one (its view holds the error). ``JobNotFound`` if the job was deleted
        meanwhile, ``ResultExpired`` if its result was.
        """
        job = self.jobs.get(job_id)
        if not job.status.is_terminal:
            return None
        if job.status is JobStatus.CANCELED:
            raise JobNotFound()  # deleted by its owner meanwhile: the record is going
        if job.status is JobStatus.EXPIRED:
            raise ResultExpired()
        view = self.jobs.view(job)
        if job.status is not JobStatus.SUCCEEDED or not job.result_key:
            return Finished(view)
        data = self.jobs.blobs.get(job.result_key)
        content_type = job.result_content_type or "application/octet-stream"
        extension = job.result_key.rsplit(".", 1)[-1]
        return Finished(view, Result(data=data, content_type=content_type, extension=extension))


def status_for_code(code: str | None) -> int:
    """The HTTP status of the error ``code`` (the status its exception answers with).

    Codes with no exception of their own (``lease_expired``) and unknown ones are 500:
    the request was fine, making the picture was not.
    """
    return _statuses_by_code().get(code or "", PixserveError.http_status)


@functools.cache
def _statuses_by_code() -> dict[str, int]:
    found: dict[str, int] = {}
    stack: list[type[PixserveError]] = [PixserveError]
    while stack:
        cls = stack.pop()
        found.setdefault(cls.code, cls.http_status)
        stack.extend(cls.__subclasses__())
    return found
