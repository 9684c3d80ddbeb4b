"""``SqlOutbox``: the outbox in the job database (the ``deliveries`` table).

The claim is the job claim's shape: one ``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP
LOCKED) RETURNING *`` in one write transaction (``BEGIN IMMEDIATE`` on SQLite). A job's
terminal deliveries are not added here but by the job's own finish, in its transaction
(:mod:`pixserve.queue.finish`), from the same :func:`delivery_values`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Insert, and_, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from pixserve.domain.delivery import Channel, Delivery, DeliveryStatus, JobEvent, NewDelivery
from pixserve.queue.database import SqlDatabase
from pixserve.queue.outbox import Outbox
from pixserve.queue.tables import deliveries

_PENDING = DeliveryStatus.PENDING.value
_SENDING = DeliveryStatus.SENDING.value


def delivery_values(new: NewDelivery, now: datetime) -> dict[str, Any]:
    """The row ``new`` becomes when queued at ``now``: pending, due at once."""
    return {
        "id": new.id,
        "job_id": new.job_id,
        "channel": new.channel.value,
        "event": new.event.value,
        "target": new.target,
        "payload": dict(new.payload),
        "status": _PENDING,
        "attempts": 0,
        "max_attempts": new.max_attempts,
        "next_attempt_at": now,
        "lease_expires_at": None,
        "last_error": None,
        "created_at": now,
        "updated_at": now,
        "sent_at": None,
    }


@cache
def add_deliveries(dialect: str) -> Insert:
    """``INSERT INTO deliveries … ON CONFLICT DO NOTHING``: a job's event goes out once per
    channel, however often it is queued (values: rows of :func:`delivery_values`)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(deliveries).on_conflict_do_nothing()


class SqlOutbox(SqlDatabase):
    """A :class:`~pixserve.queue.outbox.Outbox` on SQLAlchemy Core; the schema must exist."""

    def add(self, new: NewDelivery) -> Delivery | None:
        """Queue ``new`` as pending, due now; None if this job, channel and event has one."""
        values = delivery_values(new, self._now())
        stmt = add_deliveries(self._engine.dialect.name).values(values).returning(*deliveries.c)
        with self._write() as conn:
            row = conn.execute(stmt).mappings().first()
        return None if row is None else _delivery(row)

    def claim_due(
        self, worker_id: str, *, lease_seconds: float = 60.0, limit: int = 10
    ) -> list[Delivery]:
        """Atomically take up to ``limit`` due deliveries, oldest due first."""
        if limit < 1:
            return []
        now = self._now()
        due = or_(
            and_(deliveries.c.status == _PENDING, deliveries.c.next_attempt_at <= now),
            and_(deliveries.c.status == _SENDING, deliveries.c.lease_expires_at < now),
        )
        batch = (
            select(deliveries.c.id)
            .where(due)
            .order_by(deliveries.c.next_attempt_at, deliveries.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        stmt = (
            update(deliveries)
            .where(deliveries.c.id.in_(batch), due)
            .values(
                status=_SENDING,
                attempts=deliveries.c.attempts + 1,
                lease_expires_at=now + timedelta(seconds=lease_seconds),
                updated_at=now,
            )
            .returning(*deliveries.c)
        )
        with self._write() as conn:
            rows = conn.execute(stmt).mappings().all()
        claimed = [_delivery(row) for row in rows]
        claimed.sort(key=lambda d: (d.next_attempt_at, d.id))
        return claimed

    def _finish(self, delivery_id: str, values: dict[str, Any]) -> bool:
        stmt = (
            update(deliveries)
            .where(deliveries.c.id == delivery_id, deliveries.c.status == _SENDING)
            .values(lease_expires_at=None, updated_at=self._now(), **values)
        )
        with self._write() as conn:
            return conn.execute(stmt).rowcount == 1

    def mark_sent(self, delivery_id: str) -> bool:
        """A sending delivery went through; False if it was not sending."""
        return self._finish(
            delivery_id,
            {"status": DeliveryStatus.SENT.value, "sent_at": self._now(), "last_error": None},
        )

    def mark_failed(self, delivery_id: str, *, error: str, retry_at: datetime | None) -> bool:
        """A try failed: pending again from ``retry_at``, or ``failed`` for good if None."""
        if retry_at is None:
            return self._finish(
                delivery_id, {"status": DeliveryStatus.FAILED.value, "last_error": error}
            )
        return self._finish(
            delivery_id, {"status": _PENDING, "last_error": error, "next_attempt_at": retry_at}
        )

    def for_job(self, job_id: str) -> list[Delivery]:
        """Every delivery of the job, oldest first."""
        stmt = (
            select(deliveries)
            .where(deliveries.c.job_id == job_id)
            .order_by(deliveries.c.created_at, deliveries.c.id)
        )
        with self._read() as conn:
            return [_delivery(row) for row in conn.execute(stmt).mappings().all()]

    def delete_for_job(self, job_id: str) -> int:
        """Forget the job's deliveries; how many there were."""
        with self._write() as conn:
            return int(
                conn.execute(delete(deliveries).where(deliveries.c.job_id == job_id)).rowcount
            )


def _delivery(row: Mapping[Any, Any]) -> Delivery:
    return Delivery(
        id=row["id"],
        job_id=row["job_id"],
        channel=Channel(row["channel"]),
        event=JobEvent(row["event"]),
        target=row["target"],
        payload=dict(row["payload"] or {}),
        status=DeliveryStatus(row["status"]),
        attempts=int(row["attempts"]),
        max_attempts=int(row["max_attempts"]),
        next_attempt_at=row["next_attempt_at"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        last_error=row["last_error"],
        lease_expires_at=row["lease_expires_at"],
        sent_at=row["sent_at"],
    )


def open_outbox(url: str) -> Outbox:
    """The outbox beside the job store at ``url`` (a SQLite or PostgreSQL URL)."""
    return SqlOutbox(url.strip())
