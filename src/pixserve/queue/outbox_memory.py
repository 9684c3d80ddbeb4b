"""``MemoryOutbox``: the outbox in a dict, for unit tests; same contract as ``SqlOutbox``."""

from __future__ import annotations

import copy
import threading
from dataclasses import replace
from datetime import datetime, timedelta

from pixserve.domain.delivery import Delivery, DeliveryStatus, NewDelivery
from pixserve.queue.clock import Clock, read_clock, utc_now


class MemoryOutbox:
    """A thread-safe in-memory :class:`~pixserve.queue.outbox.Outbox`."""

    def __init__(self, *, clock: Clock = utc_now) -> None:
        self._rows: dict[str, Delivery] = {}
        self._lock = threading.Lock()
        self._clock = clock

    def __repr__(self) -> str:
        return f"MemoryOutbox({len(self._rows)} deliveries)"

    def _now(self) -> datetime:
        return read_clock(self._clock)

    def add(self, new: NewDelivery) -> Delivery | None:
        """Queue ``new`` as pending, due now; None if this job, channel and event has one."""
        now = self._now()
        with self._lock:
            for row in self._rows.values():
                if (row.job_id, row.channel, row.event) == (new.job_id, new.channel, new.event):
                    return None
            row = Delivery(
                id=new.id,
                job_id=new.job_id,
                channel=new.channel,
                event=new.event,
                target=new.target,
                payload=copy.deepcopy(new.payload),
                status=DeliveryStatus.PENDING,
                attempts=0,
                max_attempts=new.max_attempts,
                next_attempt_at=now,
                created_at=now,
                updated_at=now,
            )
            self._rows[row.id] = row
            return _copy(row)

    def claim_due(
        self, worker_id: str, *, lease_seconds: float = 60.0, limit: int = 10
    ) -> list[Delivery]:
        """Atomically take up to ``limit`` due deliveries, oldest due first."""
        now = self._now()
        with self._lock:
            due = sorted(
                (r for r in self._rows.values() if _is_due(r, now)),
                key=lambda r: (r.next_attempt_at, r.id),
            )[: max(limit, 0)]
            for row in due:
                row.status = DeliveryStatus.SENDING
                row.attempts += 1
                row.lease_expires_at = now + timedelta(seconds=lease_seconds)
                row.updated_at = now
            return [_copy(r) for r in due]

    def _finish(self, delivery_id: str, change: dict[str, object]) -> bool:
        with self._lock:
            row = self._rows.get(delivery_id)
            if row is None or row.status is not DeliveryStatus.SENDING:
                return False
            for name, value in change.items():
                setattr(row, name, value)
            row.lease_expires_at = None
            row.updated_at = self._now()
            return True

    def mark_sent(self, delivery_id: str) -> bool:
        """A sending delivery went through; False if it was not sending."""
        return self._finish(
            delivery_id, {"status": DeliveryStatus.SENT, "sent_at": self._now(), "last_error": None}
        )

    def mark_failed(self, delivery_id: str, *, error: str, retry_at: datetime | None) -> bool:
        """A try failed: pending again from ``retry_at``, or ``failed`` for good if None."""
        if retry_at is None:
            return self._finish(delivery_id, {"status": DeliveryStatus.FAILED, "last_error": error})
        return self._finish(
            delivery_id,
            {"status": DeliveryStatus.PENDING, "last_error": error, "next_attempt_at": retry_at},
        )

    def for_job(self, job_id: str) -> list[Delivery]:
        """Every delivery of the job, oldest first."""
        with self._lock:
            rows = [_copy(r) for r in self._rows.values() if r.job_id == job_id]
        return sorted(rows, key=lambda r: (r.created_at, r.id))

    def delete_for_job(self, job_id: str) -> int:
        """Forget the job's deliveries; how many there were."""
        with self._lock:
            ids = [i for i, r in self._rows.items() if r.job_id == job_id]
            for i in ids:
                del self._rows[i]
            return len(ids)

    def close(self) -> None:
        """Nothing to release."""


def _is_due(row: Delivery, now: datetime) -> bool:
    if row.status is DeliveryStatus.PENDING:
        return row.next_attempt_at <= now
    if row.status is DeliveryStatus.SENDING:
        return row.lease_expires_at is not None and row.lease_expires_at < now
    return False


def _copy(row: Delivery) -> Delivery:
    return replace(row, payload=copy.deepcopy(row.payload))
