"""A job's end as one write: the worker's guarded move, what it adds to the statistics, the
outbox rows that announce it and its ``notified_at`` mark, all or nothing.

Written together, a job can never be finished without its news queued (nor its news queued
for a finish that did not happen), so no sweep has to catch what fell between two writes. On
PostgreSQL it is one statement, a chain of data-modifying ``WITH`` clauses::

    WITH done AS (UPDATE jobs SET … WHERE id = :p_id AND status = 'running'
                  AND worker_id = :p_worker RETURNING jobs.*),
         stats AS (INSERT INTO style_stats … FROM done …),      -- a success's run time
         buckets AS (INSERT INTO job_metrics … FROM done …),    -- its histogram buckets
         errors AS (INSERT INTO job_metrics … FROM done …),     -- or a failed attempt
         news AS (INSERT INTO deliveries … FROM done WHERE done.status <> 'queued' …)
    SELECT * FROM done

SQLite has no data-modifying ``WITH``: there the same update and inserts share one
``BEGIN IMMEDIATE`` transaction (:func:`finish_in`). Either way the job's row comes back, or
nothing when the guard did not match (the worker lost the job).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    Connection,
    Insert,
    Select,
    Update,
    bindparam,
    case,
    null,
    select,
    union_all,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.selectable import CTE

from pixserve.domain.delivery import NewDelivery
from pixserve.domain.job import JobStatus
from pixserve.queue import job_metrics as jm
from pixserve.queue.claim import owned_update, sql_text
from pixserve.queue.columns import UtcDateTime
from pixserve.queue.outbox_sql import add_deliveries, delivery_values
from pixserve.queue.run_stats import record_run
from pixserve.queue.tables import deliveries, jobs

_QUEUED = JobStatus.QUEUED.value
_DELIVERY_COLUMNS = [column.name for column in deliveries.c]


@cache
def retry_update() -> Update:
    """A failed attempt: back to ``queued`` while attempts remain, else ``failed`` for good,
    then with ``finished_at`` and ``notified_at`` (``:v_notified_at``) like any failure.

    The error is ``:v_error_code``/``:v_error_message``; the time ``:p_now``.
    """
    spent = jobs.c.attempts >= jobs.c.max_attempts
    now = bindparam("p_now", type_=UtcDateTime())
    return owned_update(()).values(
        status=case((spent, sql_text(JobStatus.FAILED.value)), else_=sql_text(_QUEUED)),
        worker_id=case((spent, jobs.c.worker_id), else_=null()),
        finished_at=case((spent, now), else_=null()),
        notified_at=case((spent, bindparam("v_notified_at", type_=UtcDateTime())), else_=null()),
        error_code=bindparam("v_error_code"),
        error_message=bindparam("v_error_message"),
        lease_expires_at=null(),
        updated_at=now,
    )


def news_rows(news: Sequence[NewDelivery] | None, now: datetime) -> list[dict[str, Any]]:
    """The outbox rows of ``news``, queued at ``now``."""
    return [delivery_values(new, now) for new in news or ()]


def _news_from(done: CTE, count: int) -> postgresql.Insert:
    """``count`` outbox rows bound as ``:p_news<i>_<column>``, inserted only if the job ended
    (a retry that re-queued it announces nothing)."""
    ended = done.c.status != sql_text(_QUEUED)
    rows = [
        select(*(bindparam(f"p_news{i}_{c.name}", type_=c.type) for c in deliveries.c))
        .select_from(done)
        .where(ended)
        for i in range(count)
    ]
    source = rows[0] if count == 1 else union_all(*rows)
    return (
        postgresql.insert(deliveries)
        .from_select(_DELIVERY_COLUMNS, source)
        .on_conflict_do_nothing()
    )


def finish_chain(update: Update, *, run: bool, error: bool, news: int) -> Select[Any]:
    """PostgreSQL: ``update`` (a guarded move of one job) with the run statistics (``run``), a
    counted error (``error``) and ``news`` outbox rows, as one statement returning the job's
    row; execute with :func:`chain_params`."""
    done = update.returning(*jobs.c).cte("done")
    ctes = []
    if run:
        ctes += [record_run("postgresql", done).cte("stats"), jm.run_rows_from(done).cte("buckets")]
    if error:
        ctes.append(jm.error_from(done).cte("errors"))
    if news:
        ctes.append(_news_from(done, news).cte("news"))
    return select(done).add_cte(*ctes)


def chain_params(
    params: Mapping[str, object],
    *,
    now: datetime,
    run_seconds: float | None,
    code: str | None,
    rows: Sequence[Mapping[str, Any]],
) -> dict[str, object]:
    """The parameters of :func:`finish_chain`: the move's ``params`` and the rest."""
    given: dict[str, object] = {**params, "p_now": now}
    if run_seconds is not None:
        given["p_seconds"] = float(run_seconds)
    if code is not None:
        given["p_code"] = code
    for i, row in enumerate(rows):
        given.update({f"p_news{i}_{key}": value for key, value in row.items()})
    return given


@cache
def _sqlite_upserts() -> tuple[Insert, Insert]:
    """SQLite's run-statistics and histogram upserts, built once: SQLAlchemy then compiles
    each once, where building them per job cost a compile per job."""
    return record_run("sqlite"), jm.add_rows("sqlite")


def finish_in(
    conn: Connection,
    update: Update,
    params: Mapping[str, object],
    *,
    now: datetime,
    run_seconds: float | None,
    code: str | None,
    rows: Sequence[Mapping[str, Any]],
) -> Mapping[Any, Any] | None:
    """SQLite: what :func:`finish_chain` does, statement after statement in the caller's
    write transaction; the job's row, or None (nothing written) if the guard did not match."""
    row = conn.execute(update.returning(*jobs.c), {**params, "p_now": now}).mappings().first()
    if row is None:
        return None
    style = row["style"]
    run_stats, metrics = _sqlite_upserts()
    if run_seconds is not None:
        stats = {"p_style": style, "p_seconds": float(run_seconds), "p_now": now}
        conn.execute(run_stats, stats)
        conn.execute(metrics, jm.run_rows(style, row["created_at"], row["started_at"], now))
    if code is not None:
        conn.execute(metrics, [jm.error_row(style, code)])
    if rows and row["status"] != _QUEUED:
        conn.execute(add_deliveries("sqlite"), list(rows))
    return row
