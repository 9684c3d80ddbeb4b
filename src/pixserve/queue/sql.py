"""``SqlJobStore``: the job queue in a SQL database (SQLite or PostgreSQL).

Every state change is one guarded statement; worker calls match ``id``, ``status =
'running'`` and ``worker_id`` so a worker that lost its lease changes nothing. A job's end
takes its statistics and its news along, in one statement on PostgreSQL and one transaction
on SQLite (:mod:`pixserve.queue.finish`). Write transactions begin with ``BEGIN IMMEDIATE``
on SQLite (see :mod:`pixserve.queue.engine`); on PostgreSQL the claim's ``FOR UPDATE SKIP
LOCKED`` lets concurrent claims pass each other.

Statements that make a job claimable also wake idle workers: in this process directly, and
on PostgreSQL in every process through ``pg_notify`` (see :mod:`pixserve.queue.listen`).
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ClauseElement,
    ColumnElement,
    Connection,
    Update,
    and_,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from pixserve.domain.delivery import NewDelivery
from pixserve.domain.job import Job, JobStatus, NewJob
from pixserve.queue import job_metrics as jm
from pixserve.queue.claim import (
    REQUEUE_INTERVAL,
    claim_oldest,
    claim_params,
    owned_params,
    owned_update,
    requeue_expired,
    sql_text,
)
from pixserve.queue.clock import Clock, utc_now
from pixserve.queue.finish import chain_params, finish_in, news_rows, retry_update
from pixserve.queue.listen import CHANNEL, MOVES_CHANNEL, PgListener, libpq_conninfo
from pixserve.queue.pg_moves import PgMoves
from pixserve.queue.rows import job_from_row, new_job_values, tally_ahead
from pixserve.queue.run_stats import RunStats
from pixserve.queue.tables import job_metrics as job_metrics_table
from pixserve.queue.tables import jobs, style_stats
from pixserve.queue.upkeep import SqlUpkeep
from pixserve.queue.wakeup import Listeners, Wakeup

log = logging.getLogger(__name__)

_QUEUED = JobStatus.QUEUED.value
_RUNNING = JobStatus.RUNNING.value
_SUCCEEDED = JobStatus.SUCCEEDED.value
_FAILED = JobStatus.FAILED.value
_CANCELED = JobStatus.CANCELED.value
#: Statuses ``cancel`` acts on, read off the status machine.
_CANCELABLE = sorted(s.value for s in JobStatus if s.can_become(JobStatus.CANCELED))
#: Ids per ``IN (…)`` in ``get_many`` (SQLite allows 32,766 bound parameters; stay far below).
_IN_SLICE = 500


def _ahead_of(job_id: str, created_at: datetime) -> ColumnElement[bool]:
    """Jobs before ``(created_at, job_id)`` in the queue's order."""
    return or_(
        jobs.c.created_at < created_at,
        and_(jobs.c.created_at == created_at, jobs.c.id < job_id),
    )


class SqlJobStore(SqlUpkeep):
    """A :class:`~pixserve.queue.store.JobStore` on SQLAlchemy Core.

    The schema must exist: run :func:`pixserve.queue.migrate.upgrade` first (or open the
    store with ``open_job_store(url, migrate=True)``). ``clock`` returns the current aware
    time; tests inject one to expire leases without sleeping. Database connection failures
    raise :class:`Unavailable`.
    """

    def __init__(
        self, database_url: str, *, clock: Clock = utc_now, busy_timeout: float = 10.0
    ) -> None:
        super().__init__(database_url, clock=clock, busy_timeout=busy_timeout)
        self._postgres = self._engine.dialect.name == "postgresql"
        #: PostgreSQL: the worker's own moves, straight through psycopg (see pg_moves.py).
        self._moves = PgMoves(libpq_conninfo(self._engine.url)) if self._postgres else None
        self._wakeup = Wakeup()
        self._move_listeners: Listeners[str] = Listeners()
        #: Names this store in the moves it announces through PostgreSQL.
        self._token = secrets.token_hex(8)
        self._listener: PgListener | None = None
        self._moves_listener: PgListener | None = None
        self._listener_lock = threading.Lock()
        #: When the next claim looks for expired leases (see ``REQUEUE_INTERVAL``).
        self._next_sweep: datetime | None = None

    def _announce(self, conn: Connection) -> None:
        """Inside a write that queued jobs: tell other processes once it commits."""
        if self._postgres:
            conn.execute(select(func.pg_notify(CHANNEL, "")))

    def watch(self, event: threading.Event) -> Callable[[], None]:
        """Set ``event`` whenever jobs may have become claimable; return a function to stop.

        On PostgreSQL the first call starts a ``LISTEN`` thread, so jobs enqueued by other
        processes wake this one too. Best effort: callers still poll now and then.
        """
        if self._postgres:
            wake = self._wakeup.notify
            with self._listener_lock:
                self._listener = self._listening(self._listener, lambda _: wake(), on_connect=wake)
        return self._wakeup.watch(event)

    def watch_moves(self, callback: Callable[[str], None]) -> Callable[[], None]:
        """Call ``callback(job_id)`` after each job this store's workers end or hand back;
        on PostgreSQL also those of other processes' workers (the first call starts a
        ``LISTEN`` thread on :data:`MOVES_CHANNEL`). Best effort: a missed one is seen by
        the caller's next read."""
        if self._postgres:
            with self._listener_lock:
                self._moves_listener = self._listening(
                    self._moves_listener, self._heard_move, channel=MOVES_CHANNEL
                )
        return self._move_listeners.watch(callback)

    def _listening(
        self, listener: PgListener | None, on_notify: Callable[[str], None], **options: Any
    ) -> PgListener:
        """``listener``, or, if there is none yet, a new one started on this database."""
        if listener is None:
            listener = PgListener(libpq_conninfo(self._engine.url), on_notify, **options)
            listener.start()
        return listener

    def _moved(self, job_id: str) -> None:
        """Announce that a worker here ended ``job_id`` or handed it back: to this process's
        listeners at once, and on PostgreSQL to other processes'. The move is committed
        already, so a failed notification is only logged."""
        self._move_listeners.announce(job_id)
        if self._moves is not None:
            try:
                self._moves.moved(f"{self._token} {job_id}")
            except Exception as exc:
                log.debug("could not announce the move of job %s: %s", job_id, exc)

    def _heard_move(self, payload: str) -> None:
        """A move announced through PostgreSQL: passed on unless this store made it (its
        listeners heard of it already)."""
        token, _, job_id = payload.partition(" ")
        if token != self._token and job_id:
            self._move_listeners.announce(job_id)

    def enqueue(self, new: NewJob) -> Job:
        """Insert a queued job and return it; ``ValueError`` if the id is taken."""
        values = new_job_values(new, self._now())
        try:
            with self._write() as conn:
                row = conn.execute(insert(jobs).values(values).returning(*jobs.c)).mappings().one()
                self._announce(conn)
        except IntegrityError as exc:
            raise ValueError(f"a job with id {new.id!r} already exists") from exc
        self._wakeup.notify()
        return job_from_row(row)

    def get(self, job_id: str) -> Job | None:
        """The job with this id, or None."""
        with self._read() as conn:
            row = conn.execute(select(jobs).where(jobs.c.id == job_id)).mappings().first()
        return None if row is None else job_from_row(row)

    def claim(
        self,
        worker_id: str,
        *,
        lease_seconds: float,
        styles: Collection[str] | None = None,
        limit: int = 1,
    ) -> list[Job]:
        """Requeue expired leases, then take up to ``limit`` oldest queued jobs of one style.

        Claimed jobs are returned oldest first; ``progress`` restarts at 0 and ``started_at``
        is the start of this attempt.
        """
        if limit < 1 or (styles is not None and not styles):
            return []
        now = self._now()
        params = claim_params(worker_id, now=now, lease_seconds=lease_seconds, styles=styles)
        sweep = self._next_sweep is None or now >= self._next_sweep
        rows: Sequence[Mapping[Any, Any]]
        if self._moves is not None:
            rows, requeued = self._moves.claim(
                params, styles=styles, limit=limit, sweep_at=now if sweep else None
            )
        else:
            requeued = 0
            with self._write() as conn:
                if sweep:
                    requeued = conn.execute(requeue_expired(), {"p_now": now}).rowcount
                claim = claim_oldest(styles is not None, limit)
                rows = conn.execute(claim, params).mappings().all()
        if sweep:
            self._next_sweep = now + REQUEUE_INTERVAL
        if requeued:
            self._wakeup.notify()
        claimed = [job_from_row(row) for row in rows]
        # RETURNING gives rows in no promised order.
        claimed.sort(key=lambda job: (job.created_at, job.id))
        return claimed

    def _update_owned(
        self, job_id: str, worker_id: str, values: dict[str, object], *, requeues: bool = False
    ) -> bool:
        """Apply ``values`` if ``worker_id`` still runs the job; whether it did.

        ``requeues``: the update may put the job back in the queue, so wake idle workers.
        """
        computed = any(isinstance(v, ClauseElement) for v in values.values())
        if self._moves is not None and not computed and not requeues:
            return self._moves.update_owned(job_id, worker_id, values)
        if computed:
            stmt = owned_update(tuple(values)).values(**values)
            params = owned_params(job_id, worker_id)
        else:  # values bound: a statement built once per shape
            stmt = owned_update(tuple(sorted(values)), bound=True)
            params = owned_params(job_id, worker_id, values)
        with self._write() as conn:
            owned = conn.execute(stmt, params).rowcount == 1
            if owned and requeues:
                self._announce(conn)
        if owned and requeues:
            self._wakeup.notify()
        return owned

    def heartbeat(
        self, job_id: str, worker_id: str, *, lease_seconds: float, progress: float | None = None
    ) -> bool:
        """Renew the lease (and record progress, clamped to 0–1); False if the job is lost."""
        now = self._now()
        values: dict[str, object] = {
            "lease_expires_at": now + timedelta(seconds=lease_seconds),
            "updated_at": now,
        }
        if progress is not None:
            values["progress"] = min(max(float(progress), 0.0), 1.0)
        if lease_seconds < 0:
            # An ended lease (a dead holder): the next claim sweeps, whatever the interval.
            self._next_sweep = None
        return self._update_owned(job_id, worker_id, values)

    def succeed(
        self,
        job_id: str,
        worker_id: str,
        *,
        result_key: str,
        content_type: str,
        result_size: tuple[int, int] | None = None,
        run_seconds: float | None = None,
        preview_key: str | None = None,
        news: Sequence[NewDelivery] | None = None,
    ) -> Job | None:
        """Mark the job succeeded with its result and preview (clearing older errors), in one
        write with its run statistics and its ``news`` (see :mod:`pixserve.queue.finish`);
        the succeeded job, or None if the worker lost it."""
        now = self._now()
        width, height = result_size or (None, None)
        values: dict[str, object] = {
            "status": _SUCCEEDED,
            "result_key": result_key,
            "result_content_type": content_type,
            "result_width": width,
            "result_height": height,
            "preview_key": preview_key,
            "progress": 1.0,
            "error_code": None,
            "error_message": None,
            "lease_expires_at": None,
            "finished_at": now,
            "updated_at": now,
            "notified_at": None if news is None else now,
        }
        update = owned_update(tuple(sorted(values)), bound=True)
        params = owned_params(job_id, worker_id, values)
        return self._finish(update, params, now=now, run_seconds=run_seconds, news=news)

    def fail(
        self,
        job_id: str,
        worker_id: str,
        *,
        code: str,
        message: str,
        news: Sequence[NewDelivery] | None = None,
    ) -> Job | None:
        """Mark the job failed for good, in one write with its error count and its ``news``;
        the failed job, or None if the worker lost it."""
        now = self._now()
        values: dict[str, object] = {
            "status": _FAILED,
            "error_code": code,
            "error_message": message,
            "lease_expires_at": None,
            "finished_at": now,
            "updated_at": now,
            "notified_at": None if news is None else now,
        }
        update = owned_update(tuple(sorted(values)), bound=True)
        params = owned_params(job_id, worker_id, values)
        return self._finish(update, params, now=now, code=code, news=news)

    def retry(
        self,
        job_id: str,
        worker_id: str,
        *,
        code: str,
        message: str,
        news: Sequence[NewDelivery] | None = None,
    ) -> Job | None:
        """Back to ``queued`` if attempts remain, else ``failed`` with its ``news``; the error is
        recorded either way. The job as it is now, or None if the worker lost it."""
        now = self._now()
        values: dict[str, object] = {
            "error_code": code,
            "error_message": message,
            "notified_at": None if news is None else now,
        }
        params = owned_params(job_id, worker_id, values)
        return self._finish(retry_update(), params, now=now, code=code, news=news)

    def _finish(
        self,
        update: Update,
        params: dict[str, object],
        *,
        now: datetime,
        run_seconds: float | None = None,
        code: str | None = None,
        news: Sequence[NewDelivery] | None = None,
    ) -> Job | None:
        """Run a worker's last move on a job (``update``, guarded and bound) as one write:
        one statement on PostgreSQL, one transaction on SQLite (:mod:`~pixserve.queue.finish`)."""
        rows = news_rows(news, now)
        row: Mapping[Any, Any] | None
        if self._moves is not None:
            given = chain_params(params, now=now, run_seconds=run_seconds, code=code, rows=rows)
            run, error = run_seconds is not None, code is not None
            row = self._moves.finish(update, given, run=run, error=error, news=len(rows))
        else:
            with self._write() as conn:
                row = finish_in(
                    conn, update, params, now=now, run_seconds=run_seconds, code=code, rows=rows
                )
        if row is None:
            return None
        job = job_from_row(row)
        if job.status is JobStatus.QUEUED:  # a retry: wake idle workers, here and elsewhere
            if self._moves is not None:
                self._moves.notify()
            self._wakeup.notify()
        self._moved(job.id)
        return job

    def job_metrics(self) -> jm.JobMetrics:
        """The cumulative histograms and error counts per style (``job_metrics`` table)."""
        t = job_metrics_table
        stmt = select(t.c.style, t.c.name, t.c.label, t.c.count, t.c.total)
        with self._read() as conn:
            rows = [tuple(r) for r in conn.execute(stmt).all()]
        return jm.read(rows)

    def release(self, job_id: str, worker_id: str) -> bool:
        """Hand the job back to the queue, giving back the attempt it was spending."""
        released = self._update_owned(
            job_id,
            worker_id,
            {
                "status": _QUEUED,
                "attempts": jobs.c.attempts - 1,
                "worker_id": None,
                "lease_expires_at": None,
                "progress": 0.0,
                "updated_at": self._now(),
            },
            requeues=True,
        )
        if released:
            self._moved(job_id)
        return released

    def cancel(self, job_id: str) -> Job | None:
        """Cancel a queued or running job; a finished one comes back unchanged; None if absent."""
        now = self._now()
        stmt = (
            update(jobs)
            .where(jobs.c.id == job_id, jobs.c.status.in_(_CANCELABLE))
            .values(status=_CANCELED, lease_expires_at=None, finished_at=now, updated_at=now)
            .returning(*jobs.c)
        )
        with self._write() as conn:
            row = conn.execute(stmt).mappings().first()
            if row is None:
                row = conn.execute(select(jobs).where(jobs.c.id == job_id)).mappings().first()
        return None if row is None else job_from_row(row)

    def delete(self, job_id: str) -> bool:
        """Remove the job's row; False if there was none."""
        with self._write() as conn:
            return conn.execute(delete(jobs).where(jobs.c.id == job_id)).rowcount == 1

    def get_many(self, job_ids: Collection[str]) -> dict[str, Job]:
        """The jobs with these ids that exist, by id, in one ``SELECT … WHERE id IN``."""
        wanted = sorted(set(job_ids))
        found: dict[str, Job] = {}
        with self._read() as conn:
            # In slices, under SQLite's limit on bound parameters.
            for start in range(0, len(wanted), _IN_SLICE):
                stmt = select(jobs).where(jobs.c.id.in_(wanted[start : start + _IN_SLICE]))
                for row in conn.execute(stmt).mappings():
                    job = job_from_row(row)
                    found[job.id] = job
        return found

    def queued_ahead_many(self, job_ids: Collection[str]) -> dict[str, dict[str, int]]:
        """The queued jobs ahead of each queued job of ``job_ids``, per style.

        One read of the queue's ids and styles in claim order (the queue is bounded by
        ``max_queue``), walked once here and stopped after the last watched job.
        """
        wanted = set(job_ids)
        if not wanted:
            return {}
        stmt = (
            select(jobs.c.id, jobs.c.style)
            .where(jobs.c.status == sql_text(_QUEUED))
            .order_by(jobs.c.created_at, jobs.c.id)
        )
        with self._read() as conn:
            return tally_ahead(((i, style) for i, style in conn.execute(stmt)), wanted)

    def position(self, job_id: str) -> int | None:
        """Queued jobs (of any style) ahead of this one in claim order; None unless queued."""
        with self._read() as conn:
            row = conn.execute(
                select(jobs.c.status, jobs.c.created_at).where(jobs.c.id == job_id)
            ).first()
            if row is None or row.status != _QUEUED:
                return None
            queued = jobs.c.status == sql_text(_QUEUED)
            count = conn.execute(
                select(func.count())
                .select_from(jobs)
                .where(queued, _ahead_of(job_id, row.created_at))
            ).scalar_one()
        return int(count)

    def queued_ahead(self, job_id: str) -> dict[str, int] | None:
        """The queued jobs ahead of this one in claim order, per style; None unless queued."""
        with self._read() as conn:
            row = conn.execute(
                select(jobs.c.status, jobs.c.created_at).where(jobs.c.id == job_id)
            ).first()
            if row is None or row.status != _QUEUED:
                return None
            stmt = (
                select(jobs.c.style, func.count())
                .where(jobs.c.status == sql_text(_QUEUED), _ahead_of(job_id, row.created_at))
                .group_by(jobs.c.style)
            )
            return {style: int(n) for style, n in conn.execute(stmt).all()}

    def running(self) -> list[Job]:
        """Every running job, oldest start first (a handful: sorted here, not by the
        database, which then only reads the running jobs' partial index)."""
        stmt = select(jobs).where(jobs.c.status == sql_text(_RUNNING))
        with self._read() as conn:
            rows = conn.execute(stmt).mappings().all()
        found = [job_from_row(row) for row in rows]
        return sorted(found, key=lambda j: (j.started_at or j.created_at, j.id))

    def counts(self) -> dict[tuple[str, JobStatus], int]:
        """Number of jobs per (style, status); pairs with no jobs are absent."""
        stmt = select(jobs.c.style, jobs.c.status, func.count()).group_by(
            jobs.c.style, jobs.c.status
        )
        with self._read() as conn:
            rows = conn.execute(stmt).all()
        return {(style, JobStatus(status)): int(n) for style, status, n in rows}

    def queued_count(self) -> int:
        """Number of queued jobs, all styles."""
        stmt = select(func.count()).select_from(jobs).where(jobs.c.status == sql_text(_QUEUED))
        with self._read() as conn:
            return int(conn.execute(stmt).scalar_one())

    def run_stats(self) -> dict[str, RunStats]:
        """What successful runs took, per style (one small table, read whole)."""
        stmt = select(style_stats.c.style, style_stats.c.runs, style_stats.c.mean_seconds)
        with self._read() as conn:
            rows = conn.execute(stmt).all()
        return {style: RunStats(style, int(runs), float(mean)) for style, runs, mean in rows}

    def active_workers(self, within_seconds: float = 300.0) -> int:
        """Distinct workers holding a lease that ran until within the window, or that
        finished a job within it."""
        cutoff = self._now() - timedelta(seconds=within_seconds)
        stmt = select(func.count(jobs.c.worker_id.distinct())).where(
            jobs.c.worker_id.is_not(None),
            or_(
                and_(jobs.c.status == sql_text(_RUNNING), jobs.c.lease_expires_at >= cutoff),
                jobs.c.finished_at >= cutoff,
            ),
        )
        with self._read() as conn:
            return int(conn.execute(stmt).scalar_one())

    def ping(self) -> None:
        """Raise ``Unavailable`` if the database cannot be reached."""
        with self._read() as conn:
            conn.exec_driver_sql("SELECT 1")

    def close(self) -> None:
        """Stop listening and close every pooled connection."""
        if self._moves is not None:
            self._moves.close()
        with self._listener_lock:
            for listener in (self._listener, self._moves_listener):
                if listener is not None:
                    listener.close()
            self._listener = self._moves_listener = None
        super().close()
