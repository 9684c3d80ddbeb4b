"""Deliveries: one e-mail or one webhook call about one job event, and its own small life.

``pending → sending → sent``; a failed try goes back to ``pending`` with a later
``next_attempt_at`` until its attempts are spent, then ``failed``. A delivery never changes
its job: a message that cannot be sent is recorded here, not in the job's status.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Channel(StrEnum):
    """How the news travels."""

    EMAIL = "email"
    WEBHOOK = "webhook"


class DeliveryStatus(StrEnum):
    """Where a delivery is in its life."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class JobEvent(StrEnum):
    """The events a job announces (the ``type`` of a webhook)."""

    RUNNING = "job.running"
    SUCCEEDED = "job.succeeded"
    FAILED = "job.failed"


def new_delivery_id() -> str:
    """A unique delivery id; webhooks send it as ``webhook-id`` on every try."""
    return "msg_" + secrets.token_urlsafe(18)


@dataclass(frozen=True)
class NewDelivery:
    """A delivery to make: the store turns it into a pending :class:`Delivery`."""

    job_id: str
    channel: Channel
    event: JobEvent
    target: str
    payload: dict[str, Any] = field(default_factory=dict)
    max_attempts: int = 1
    id: str = field(default_factory=new_delivery_id)


@dataclass
class Delivery:
    """One message about one job event, as the outbox stores it."""

    id: str
    job_id: str
    channel: Channel
    event: JobEvent
    target: str
    payload: dict[str, Any]
    status: DeliveryStatus
    attempts: int
    max_attempts: int
    next_attempt_at: datetime
    created_at: datetime
    updated_at: datetime
    last_error: str | None = None
    lease_expires_at: datetime | None = None
    sent_at: datetime | None = None
