"""The job store's upkeep methods: housekeeping marks, admin moves and scans.

They serve delivery, retention and ``pixserve reconcile`` rather than the claim loop, so they
live here, in the base class of :class:`~pixserve.queue.sql.SqlJobStore`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select, update

from pixserve.domain.delivery import NewDelivery
from pixserve.domain.job import Job, JobStatus
from pixserve.queue.database import SqlDatabase
from pixserve.queue.finish import news_rows
from pixserve.queue.outbox_sql import add_deliveries
from pixserve.queue.rows import job_from_row
from pixserve.queue.tables import jobs


class SqlUpkeep(SqlDatabase):
    """Upkeep statements on the job database (the base class of ``SqlJobStore``)."""

    def transition(
        self,
        job_id: str,
        expected: JobStatus,
        new: JobStatus,
        *,
        code: str | None = None,
        message: str | None = None,
    ) -> bool:
        """Move the job from ``expected`` to ``new`` if it is still ``expected``.

        ``finished_at`` is set when the job becomes terminal, and kept when it already was
        (a result's expiry does not restart the record's retention).
        """
        expected.check_transition(new)
        now = self._now()
        values: dict[str, Any] = {"status": new.value, "lease_expires_at": None, "updated_at": now}
        if new.is_terminal and not expected.is_terminal:
            values["finished_at"] = now
        if new is JobStatus.QUEUED:
            values["worker_id"] = None
        if code is not None:
            values["error_code"] = code
            values["error_message"] = message or code
        stmt = update(jobs).where(jobs.c.id == job_id, jobs.c.status == expected.value)
        with self._write() as conn:
            return conn.execute(stmt.values(**values)).rowcount == 1

    def mark_input_deleted(self, job_id: str) -> bool:
        """Record that the job's original is gone from storage; False if there is no job."""
        now = self._now()
        stmt = update(jobs).where(jobs.c.id == job_id).values(input_deleted_at=now, updated_at=now)
        with self._write() as conn:
            return conn.execute(stmt).rowcount == 1

    def mark_notified(self, job_id: str, news: Sequence[NewDelivery] = ()) -> bool:
        """Queue ``news`` (the deliveries announcing the job's end) and record that they are
        queued, in one transaction; False if there is no such job or it was marked already.

        For the sweep of jobs whose finish did not queue their news (see ``succeed``).
        """
        now = self._now()
        stmt = (
            update(jobs)
            .where(jobs.c.id == job_id, jobs.c.notified_at.is_(None))
            .values(notified_at=now, updated_at=now)
        )
        with self._write() as conn:
            if conn.execute(stmt).rowcount != 1:
                return False
            if news:
                conn.execute(add_deliveries(conn.dialect.name), news_rows(news, now))
        return True

    def find_finished(
        self,
        *,
        statuses: Collection[JobStatus],
        finished_before: datetime | None = None,
        input_kept: bool | None = None,
        unnotified: bool = False,
        limit: int = 100,
    ) -> list[Job]:
        """Up to ``limit`` jobs in ``statuses``, oldest ``finished_at`` first."""
        if not statuses or limit < 1:
            return []
        stmt = select(jobs).where(
            jobs.c.status.in_(sorted(s.value for s in statuses)),
            # Terminal jobs always have one; spelled out so that the partial index applies.
            jobs.c.finished_at.is_not(None),
        )
        if finished_before is not None:
            stmt = stmt.where(jobs.c.finished_at < finished_before)
        if input_kept is True:
            stmt = stmt.where(jobs.c.input_deleted_at.is_(None))
        elif input_kept is False:
            stmt = stmt.where(jobs.c.input_deleted_at.is_not(None))
        if unnotified:
            stmt = stmt.where(
                and_(
                    jobs.c.notified_at.is_(None),
                    or_(jobs.c.email.is_not(None), jobs.c.webhook_url.is_not(None)),
                )
            )
        stmt = stmt.order_by(jobs.c.finished_at, jobs.c.id).limit(limit)
        with self._read() as conn:
            rows = conn.execute(stmt).mappings().all()
        return [job_from_row(row) for row in rows]

    def scan(self, *, after: str | None = None, limit: int = 500) -> list[Job]:
        """Up to ``limit`` jobs of any status in id order, starting after id ``after``."""
        stmt = select(jobs)
        if after is not None:
            stmt = stmt.where(jobs.c.id > after)
        stmt = stmt.order_by(jobs.c.id).limit(max(limit, 1))
        with self._read() as conn:
            rows = conn.execute(stmt).mappings().all()
        return [job_from_row(row) for row in rows]


def iter_all_jobs(store: Any, *, page: int = 500) -> Iterator[Job]:
    """Every job in ``store`` (a ``JobStore``), a page at a time, in id order."""
    after: str | None = None
    while True:
        batch = store.scan(after=after, limit=page)
        yield from batch
        if len(batch) < page:
            return
        after = batch[-1].id
