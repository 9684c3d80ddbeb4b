"""The ``Outbox`` protocol: deliveries (e-mails, webhook calls) waiting to be sent, durably.

Rows live in the job database, so a delivery queued by a worker that then dies is still
sent by another worker; the claim takes a lease, like a job's, so two workers never send the
same try at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, runtime_checkable

from pixserve.domain.delivery import Delivery, NewDelivery


@runtime_checkable
class Outbox(Protocol):
    """Deliveries and their tries."""

    def add(self, new: NewDelivery) -> Delivery | None:
        """Queue ``new`` as pending, due now; None if this job, channel and event has one."""
        ...

    def claim_due(
        self, worker_id: str, *, lease_seconds: float = 60.0, limit: int = 10
    ) -> list[Delivery]:
        """Atomically take up to ``limit`` due deliveries, oldest due first.

        Due: pending with ``next_attempt_at`` reached, or sending with a lease that ran out
        (its sender died). Taken ones become ``sending`` with ``attempts + 1`` and a lease.
        """
        ...

    def mark_sent(self, delivery_id: str) -> bool:
        """A sending delivery went through; False if it was not sending."""
        ...

    def mark_failed(self, delivery_id: str, *, error: str, retry_at: datetime | None) -> bool:
        """A try failed: pending again from ``retry_at``, or ``failed`` for good if None."""
        ...

    def for_job(self, job_id: str) -> list[Delivery]:
        """Every delivery of the job, oldest first."""
        ...

    def delete_for_job(self, job_id: str) -> int:
        """Forget the job's deliveries (the job was deleted); how many there were."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
