"""The statements of a worker's moves: return expired leases, take the oldest jobs, and the
guarded update of a job the worker runs.

Both are single, portable SQL statements. The batch ``SELECT`` carries ``FOR UPDATE SKIP
LOCKED``, which SQLAlchemy renders on PostgreSQL and drops on SQLite, where the write lock
already serialises claims.

Statuses and the batch size are written into the claim's SQL rather than bound. PostgreSQL
prepares a statement a connection runs often and, once a plan without the parameters' values
costs no more than the ones made with them, reuses that *generic* plan instead of planning each
call again (planning was half the claim's time). A generic plan knows only the SQL: with
``status = $1`` it cannot tell that few rows are queued, and with ``LIMIT $2`` it assumes a
tenth of them come out and hash-joins the whole table. With the constants in the text the
generic plan is the plan of the query itself: two short index scans and a primary-key probe.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from functools import cache, lru_cache

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    String,
    Update,
    any_,
    bindparam,
    case,
    literal,
    literal_column,
    null,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY

from pixserve.domain.job import JobStatus
from pixserve.queue.columns import UtcDateTime
from pixserve.queue.tables import jobs

#: ``error_code`` of a job whose worker stopped renewing its lease.
LEASE_EXPIRED = "lease_expired"

QUEUED = JobStatus.QUEUED.value
RUNNING = JobStatus.RUNNING.value
FAILED = JobStatus.FAILED.value


def sql_text(value: str) -> ColumnElement[str]:
    """A status written into the SQL as a string literal (see the module docstring); the
    partial indexes of ``tables.py`` are only matched by queries that spell it so."""
    if not value.isidentifier():  # statuses are plain words; nothing here needs quoting
        raise ValueError(f"not a status: {value!r}")
    return literal_column(f"'{value}'", String())


def _sql_int(value: int) -> ColumnElement[int]:
    """A count written into the SQL as an integer literal."""
    return literal_column(str(int(value)), Integer())


#: The order jobs leave the queue in: oldest first, ties broken by id.
QUEUE_ORDER = (jobs.c.created_at, jobs.c.id)


#: How often one store looks for expired leases while claiming. Leases last tens of seconds,
#: so a second's delay is invisible, and a busy queue is spared a statement per claim.
REQUEUE_INTERVAL = timedelta(seconds=1)


def _now_param() -> BindParameter[datetime]:
    return bindparam("p_now", type_=UtcDateTime())


@cache
def requeue_expired() -> Update:
    """Running jobs whose lease ran out → ``queued``, or ``failed`` once attempts are spent.

    Either way the expiry is recorded as the job's last error (``lease_expired``). Built once;
    execute with ``{"p_now": now}``.
    """
    spent = jobs.c.attempts >= jobs.c.max_attempts
    return (
        update(jobs)
        .where(jobs.c.status == sql_text(RUNNING), jobs.c.lease_expires_at < _now_param())
        .values(
            status=case((spent, sql_text(FAILED)), else_=sql_text(QUEUED)),
            error_code=LEASE_EXPIRED,
            error_message=literal("the lease of worker ")
            + jobs.c.worker_id
            + literal(" ran out before the job finished"),
            finished_at=case((spent, _now_param()), else_=null()),
            worker_id=None,
            lease_expires_at=None,
            updated_at=_now_param(),
        )
    )


def claim_params(
    worker_id: str,
    *,
    now: datetime,
    lease_seconds: float,
    styles: Collection[str] | None,
) -> dict[str, object]:
    """The parameters of :func:`claim_oldest` for one claim."""
    params: dict[str, object] = {
        "p_worker": worker_id,
        "p_now": now,
        "p_lease": now + timedelta(seconds=lease_seconds),
    }
    if styles is not None:
        params["p_styles"] = sorted(styles)
    return params


@lru_cache(maxsize=64)
def claim_oldest(filtered: bool, limit: int, *, styles_array: bool = False) -> Update:
    """Take up to ``limit`` queued jobs of the style of the oldest eligible job.

    One ``WITH batch AS MATERIALIZED (SELECT … LIMIT n FOR UPDATE SKIP LOCKED) UPDATE jobs …
    FROM batch WHERE jobs.id = batch.id RETURNING *``. The batch is a materialised CTE because
    PostgreSQL may rescan a plain ``IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED)`` once per
    outer row; each rescan skips the rows this very statement already updated and returns new
    ones, so the ``LIMIT`` stops holding. Joining the batch by primary key (rather than
    ``id IN (…)``) keeps the update to n index probes even before the table has statistics.
    The outer ``status = 'queued'`` re-check keeps a job from being claimed twice on databases
    that re-evaluate the row after waiting for a lock.

    Built once per shape (``filtered``: the worker serves only some styles; ``limit``: the
    batch size, a worker's constant) and executed with :func:`claim_params`, so the hot path
    of a busy queue builds no SQL. ``styles_array`` (PostgreSQL only) binds the styles as one
    array, ``style = ANY(:p_styles)``, instead of a parameter per style.
    """
    queued = jobs.c.status == sql_text(QUEUED)
    eligible = select(jobs.c.style).where(queued)
    if filtered and styles_array:
        array = bindparam("p_styles", type_=ARRAY(String()))
        eligible = eligible.where(jobs.c.style == any_(array))
    elif filtered:
        eligible = eligible.where(jobs.c.style.in_(bindparam("p_styles", expanding=True)))
    oldest_style = eligible.order_by(*QUEUE_ORDER).limit(_sql_int(1)).scalar_subquery()
    batch = (
        select(jobs.c.id)
        .where(queued, jobs.c.style == oldest_style)
        .order_by(*QUEUE_ORDER)
        .limit(_sql_int(limit))
        .with_for_update(skip_locked=True)
        .cte("batch")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    return (
        update(jobs)
        .where(jobs.c.id == batch.c.id, queued)
        .values(
            status=sql_text(RUNNING),
            worker_id=bindparam("p_worker"),
            attempts=jobs.c.attempts + 1,
            lease_expires_at=bindparam("p_lease", type_=UtcDateTime()),
            progress=0.0,
            started_at=_now_param(),
            updated_at=_now_param(),
        )
        .returning(*jobs.c)
    )


def owned_params(
    job_id: str, worker_id: str, values: Mapping[str, object] | None = None
) -> dict[str, object]:
    """The parameters of :func:`owned_update`: the guard, and ``values`` as ``v_<column>``."""
    params: dict[str, object] = {"p_id": job_id, "p_worker": worker_id}
    params.update({f"v_{key}": value for key, value in (values or {}).items()})
    return params


@cache
def owned_update(keys: tuple[str, ...], *, bound: bool = False) -> Update:
    """``UPDATE jobs SET … WHERE id = :p_id AND status = 'running' AND worker_id = :p_worker``.

    With ``bound``, every column in ``keys`` is set from a parameter ``v_<column>``, so the
    statement is built once per shape; otherwise the caller adds the values.
    """
    stmt = update(jobs).where(
        jobs.c.id == bindparam("p_id"),
        jobs.c.status == sql_text(RUNNING),
        jobs.c.worker_id == bindparam("p_worker"),
    )
    if bound:
        stmt = stmt.values({key: bindparam(f"v_{key}", type_=jobs.c[key].type) for key in keys})
    return stmt
