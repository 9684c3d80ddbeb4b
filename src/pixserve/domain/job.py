"""Jobs and their status machine.

``queued → running → succeeded | failed | canceled | expired``; a running job whose lease ran
out goes back to ``queued`` until its attempts are spent. Any other move raises.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from pixserve.core.errors import IllegalTransition, InvalidCrop
from pixserve.core.i18n import N_


class JobStatus(StrEnum):
    """Where a job is in its life."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    EXPIRED = "expired"

    @property
    def is_terminal(self) -> bool:
        """True once the job will never change status again."""
        return self in _TERMINAL

    def can_become(self, new: JobStatus) -> bool:
        """Whether moving from this status to ``new`` is legal."""
        return new in _TRANSITIONS[self]

    def check_transition(self, new: JobStatus) -> JobStatus:
        """Return ``new`` if the move is legal, else raise :class:`IllegalTransition`."""
        if not self.can_become(new):
            raise IllegalTransition(f"a {self.value} job cannot become {new.value}")
        return new


_TERMINAL = frozenset(
    {JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELED, JobStatus.EXPIRED}
)
_TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.QUEUED: frozenset({JobStatus.RUNNING, JobStatus.CANCELED, JobStatus.EXPIRED}),
    JobStatus.RUNNING: frozenset(
        {
            JobStatus.QUEUED,  # lease ran out or the worker handed it back
            JobStatus.SUCCEEDED,
            JobStatus.FAILED,
            JobStatus.CANCELED,
        }
    ),
    JobStatus.SUCCEEDED: frozenset({JobStatus.EXPIRED}),
    JobStatus.FAILED: frozenset(),
    JobStatus.CANCELED: frozenset(),
    JobStatus.EXPIRED: frozenset(),
}

#: Statuses a job may be in when a worker or the web asks for its queue position.
ACTIVE_STATUSES = frozenset({JobStatus.QUEUED, JobStatus.RUNNING})


def new_job_id() -> str:
    """A random, URL-safe job id with 128 bits of entropy (22 characters)."""
    return secrets.token_urlsafe(16)


@dataclass(frozen=True)
class Crop:
    """A rectangle in the upright (EXIF-rotated) image, in pixels."""

    x: int
    y: int
    w: int
    h: int

    @classmethod
    def parse(cls, text: str) -> Crop:
        """Parse ``"x,y,w,h"``; raise :class:`InvalidCrop` if it is not four sane integers."""
        parts = [p.strip() for p in text.split(",")]
        try:
            x, y, w, h = (int(p) for p in parts)
        except ValueError:
            raise InvalidCrop(
                N_("The crop must be four integers x,y,w,h, not “{crop}”."), crop=text
            ) from None
        if x < 0 or y < 0 or w <= 0 or h <= 0:
            raise InvalidCrop(
                N_("The crop needs x and y of 0 or more and a width and height above 0.")
            )
        return cls(x, y, w, h)

    def __str__(self) -> str:
        return f"{self.x},{self.y},{self.w},{self.h}"


@dataclass
class Job:
    """One image on its way through pixserve, as stored in the queue."""

    id: str
    style: str
    status: JobStatus
    input_key: str
    created_at: datetime
    updated_at: datetime
    crop: Crop | None = None
    params: dict[str, Any] = field(default_factory=dict)
    email: str | None = None
    webhook_url: str | None = None
    result_key: str | None = None
    result_content_type: str | None = None
    progress: float = 0.0
    error_code: str | None = None
    error_message: str | None = None
    attempts: int = 0
    max_attempts: int = 3
    worker_id: str | None = None
    lease_expires_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    lang: str = "en"
    preview_key: str | None = None
    input_deleted_at: datetime | None = None
    notified_at: datetime | None = None
    #: The result's size in pixels, once succeeded.
    result_width: int | None = None
    result_height: int | None = None


@dataclass(frozen=True)
class NewJob:
    """What a submission asks for; the queue turns it into a :class:`Job`."""

    style: str
    input_key: str
    id: str = field(default_factory=new_job_id)
    crop: Crop | None = None
    params: dict[str, Any] = field(default_factory=dict)
    email: str | None = None
    webhook_url: str | None = None
    max_attempts: int = 3
    lang: str = "en"
