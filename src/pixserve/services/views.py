"""Read models of a job: what the API and the UI show about it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pixserve.domain.delivery import Delivery
from pixserve.domain.job import Job, JobStatus


@dataclass(frozen=True)
class DeliveryInfo:
    """What became of one e-mail or webhook of the job (never the address or URL itself)."""

    channel: str
    event: str
    status: str
    attempts: int
    last_error: str | None

    @classmethod
    def of(cls, delivery: Delivery) -> DeliveryInfo:
        """The submitter's view of ``delivery``."""
        return cls(
            channel=delivery.channel.value,
            event=delivery.event.value,
            status=delivery.status.value,
            attempts=delivery.attempts,
            last_error=delivery.last_error,
        )


@dataclass(frozen=True)
class JobView:
    """A job as its submitter sees it: status, place in the queue, progress, errors."""

    id: str
    style: str
    status: JobStatus
    position: int | None
    eta_seconds: float | None
    progress: float
    error_code: str | None
    error_message: str | None
    has_result: bool
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    has_preview: bool = False
    #: The signed path of the full-size result when it is only reachable by link.
    result_link: str | None = None
    deliveries: tuple[DeliveryInfo, ...] = ()
    #: The result's size in pixels, once succeeded.
    result_width: int | None = None
    result_height: int | None = None

    @classmethod
    def of(
        cls,
        job: Job,
        *,
        position: int | None,
        eta_seconds: float | None,
        result_link: str | None = None,
        deliveries: tuple[DeliveryInfo, ...] = (),
    ) -> JobView:
        """Build the view of ``job`` with its queue position and estimate."""
        succeeded = job.status is JobStatus.SUCCEEDED
        return cls(
            id=job.id,
            style=job.style,
            status=job.status,
            position=position,
            eta_seconds=None if eta_seconds is None else round(eta_seconds, 1),
            progress=1.0 if job.status is JobStatus.SUCCEEDED else round(job.progress, 3),
            error_code=job.error_code if job.status is JobStatus.FAILED else None,
            error_message=job.error_message if job.status is JobStatus.FAILED else None,
            has_result=job.status is JobStatus.SUCCEEDED and job.result_key is not None,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            has_preview=job.status is JobStatus.SUCCEEDED and job.preview_key is not None,
            result_link=result_link,
            deliveries=deliveries,
            result_width=job.result_width if succeeded else None,
            result_height=job.result_height if succeeded else None,
        )
