"""The two statements of a claim: return expired leases, then take the oldest jobs.

Both are single, portable SQL statements run in one write transaction (``BEGIN IMMEDIATE``
on SQLite). The batch ``SELECT`` carries ``FOR UPDATE SKIP LOCKED``, which SQLAlchemy
renders on PostgreSQL and drops on SQLite, where the write lock already serialises claims.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import (
    BindParameter,
    Integer,
    Update,
    bindparam,
    case,
    literal,
    null,
    select,
    update,
)

from pixserve.domain.job import JobStatus
from pixserve.queue.columns import UtcDateTime
from pixserve.queue.tables import jobs

#: ``error_code`` of a job whose worker stopped renewing its lease.
LEASE_EXPIRED = "lease_expired"

QUEUED = JobStatus.QUEUED.value
RUNNING = JobStatus.RUNNING.value
FAILED = JobStatus.FAILED.value

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
        .where(jobs.c.status == RUNNING, jobs.c.lease_expires_at < _now_param())
        .values(
            status=case((spent, FAILED), else_=QUEUED),
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
    limit: int,
) -> dict[str, object]:
    """The parameters of :func:`claim_oldest` for one claim."""
    params: dict[str, object] = {
        "p_worker": worker_id,
        "p_now": now,
        "p_lease": now + timedelta(seconds=lease_seconds),
        "p_limit": limit,
    }
    if styles is not None:
        params["p_styles"] = sorted(styles)
    return params


@cache
def claim_oldest(filtered: bool) -> Update:
    """Take up to ``limit`` queued jobs of the style of the oldest eligible job.

    One ``WITH batch AS MATERIALIZED (SELECT … LIMIT n FOR UPDATE SKIP LOCKED) UPDATE jobs …
    FROM batch WHERE jobs.id = batch.id RETURNING *``. The batch is a materialised CTE because
    PostgreSQL may rescan a plain ``IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED)`` once per
    outer row; each rescan skips the rows this very statement already updated and returns new
    ones, so the ``LIMIT`` stops holding. Joining the batch by primary key (rather than
    ``id IN (…)``) keeps the update to n index probes even before the table has statistics.
    The outer ``status = 'queued'`` re-check keeps a job from being claimed twice on databases
    that re-evaluate the row after waiting for a lock.

    Built once per shape (``filtered``: the worker serves only some styles) and executed with
    :func:`claim_params`, so the hot path of a busy queue builds no SQL.
    """
    eligible = select(jobs.c.style).where(jobs.c.status == QUEUED)
    if filtered:
        eligible = eligible.where(jobs.c.style.in_(bindparam("p_styles", expanding=True)))
    oldest_style = eligible.order_by(*QUEUE_ORDER).limit(1).scalar_subquery()
    batch = (
        select(jobs.c.id)
        .where(jobs.c.status == QUEUED, jobs.c.style == oldest_style)
        .order_by(*QUEUE_ORDER)
        .limit(bindparam("p_limit", type_=Integer()))
        .with_for_update(skip_locked=True)
        .cte("batch")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    return (
        update(jobs)
        .where(jobs.c.id == batch.c.id, jobs.c.status == QUEUED)
        .values(
            status=RUNNING,
            worker_id=bindparam("p_worker"),
            attempts=jobs.c.attempts + 1,
            lease_expires_at=bindparam("p_lease", type_=UtcDateTime()),
            progress=0.0,
            started_at=_now_param(),
            updated_at=_now_param(),
        )
        .returning(*jobs.c)
    )
