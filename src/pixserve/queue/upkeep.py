"""The job store's upkeep methods: previews, housekeeping marks, admin moves and scans.

They serve delivery, retention and ``pixserve reconcile`` rather than the claim loop, so
they live here as mixins of :class:`~pixserve.queue.sql.SqlJobStore` and
:class:`~pixserve.queue.memory.MemoryJobStore`; the contract tests run them on both.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Collection, Iterator
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select, update

from pixserve.domain.job import Job, JobStatus
from pixserve.queue.database import SqlDatabase
from pixserve.queue.rows import job_from_row
from pixserve.queue.tables import jobs


class _Marks:
    """The housekeeping marks, on top of each store's own ``_mark(job_id, column)``."""

    def _mark(self, job_id: str, column: str) -> bool:
        raise NotImplementedError

    def mark_input_deleted(self, job_id: str) -> bool:
        """Record that the job's original is gone from storage; False if there is no job."""
        return self._mark(job_id, "input_deleted_at")

    def mark_notified(self, job_id: str) -> bool:
        """Record that the job's terminal e-mail/webhook deliveries are queued."""
        return self._mark(job_id, "notified_at")


class SqlUpkeep(_Marks, SqlDatabase):
    """Upkeep statements on the job database (mixed into ``SqlJobStore``)."""

    def _update_owned(self, job_id: str, worker_id: str, values: dict[str, object]) -> bool:
        raise NotImplementedError

    def attach_preview(self, job_id: str, worker_id: str, *, preview_key: str) -> bool:
        """Record the preview image of a running job; False if the worker lost it."""
        values: dict[str, object] = {"preview_key": preview_key, "updated_at": self._now()}
        return self._update_owned(job_id, worker_id, values)

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

    def _mark(self, job_id: str, column: str) -> bool:
        now = self._now()
        stmt = update(jobs).where(jobs.c.id == job_id).values({column: now, "updated_at": now})
        with self._write() as conn:
            return conn.execute(stmt).rowcount == 1

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


class MemoryUpkeep(_Marks):
    """The same methods for ``MemoryJobStore`` (its ``_jobs`` dict, ``_lock`` and ``_now``)."""

    _jobs: dict[str, Job]
    _lock: threading.RLock

    def _now(self) -> datetime:
        raise NotImplementedError

    def _update_owned(self, job_id: str, worker_id: str, change: Callable[[Job], None]) -> bool:
        raise NotImplementedError

    def attach_preview(self, job_id: str, worker_id: str, *, preview_key: str) -> bool:
        """Record the preview image of a running job; False if the worker lost it."""
        now = self._now()

        def change(job: Job) -> None:
            job.preview_key, job.updated_at = preview_key, now

        return self._update_owned(job_id, worker_id, change)

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
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.status is not expected:
                return False
            job.status = new
            job.lease_expires_at = None
            job.updated_at = now
            if new.is_terminal and not expected.is_terminal:
                job.finished_at = now
            if new is JobStatus.QUEUED:
                job.worker_id = None
            if code is not None:
                job.error_code, job.error_message = code, message or code
            return True

    def _mark(self, job_id: str, field: str) -> bool:
        now = self._now()
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                return False
            setattr(job, field, now)
            job.updated_at = now
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
        wanted = set(statuses)
        with self._lock:
            found = [
                _copy(job)
                for job in self._jobs.values()
                if job.status in wanted and _matches(job, finished_before, input_kept, unnotified)
            ]
        found.sort(key=lambda j: (j.finished_at is None, j.finished_at or j.created_at, j.id))
        return found[: max(limit, 0)]

    def scan(self, *, after: str | None = None, limit: int = 500) -> list[Job]:
        """Up to ``limit`` jobs of any status in id order, starting after id ``after``."""
        with self._lock:
            ids = sorted(i for i in self._jobs if after is None or i > after)[: max(limit, 1)]
            return [_copy(self._jobs[i]) for i in ids]


def _matches(
    job: Job, finished_before: datetime | None, input_kept: bool | None, unnotified: bool
) -> bool:
    if finished_before is not None and (
        job.finished_at is None or job.finished_at >= finished_before
    ):
        return False
    if input_kept is not None and (job.input_deleted_at is None) != input_kept:
        return False
    return not unnotified or (
        job.notified_at is None and (job.email is not None or job.webhook_url is not None)
    )


def _copy(job: Job) -> Job:
    return replace(job, params=copy.deepcopy(job.params))


def iter_all_jobs(store: Any, *, page: int = 500) -> Iterator[Job]:
    """Every job in ``store`` (a ``JobStore``), a page at a time, in id order."""
    after: str | None = None
    while True:
        batch = store.scan(after=after, limit=page)
        yield from batch
        if len(batch) < page:
            return
        after = batch[-1].id
