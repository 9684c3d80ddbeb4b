"""Cumulative job metrics per style, kept in the job database for ``/metrics``.

Jobs finish in worker processes (other hosts, or the parent of ``serve --web-processes N``)
while any web process answers ``/metrics``, so the figures cannot live in one process's
memory: the ``job_metrics`` table holds, per (style, name, label), a cumulative ``count``
and a running ``total``:

* ``queue_wait_seconds`` (started_at − created_at) and ``run_seconds`` (finished_at −
  started_at) are Prometheus histograms: one row per bucket, ``label`` its upper bound
  (``le``), ``count`` the runs at or below it (cumulative, ``+Inf`` counts them all and its
  ``total`` is the histogram's sum). Recorded with each success.
* ``errors``: ``label`` is the error code, ``count`` the failed attempts (``fail``, and
  ``retry`` whether it requeues or fails the job).

Rows are only ever upserted upwards; deleting jobs leaves them alone. The statements here
run in the same transaction as the job's move (on PostgreSQL in the same statement, see
:mod:`pixserve.queue.finish`).
"""

from __future__ import annotations

import math
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Float,
    Insert,
    String,
    bindparam,
    case,
    column,
    extract,
    literal,
    or_,
    select,
    true,
    values,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.selectable import CTE

from pixserve.domain.metrics import (
    ERRORS,
    HISTOGRAMS,
    INF,
    QUEUE_WAIT,
    RUN_TIME,
    Histogram,
    JobMetrics,
    le_label,
)
from pixserve.queue.tables import job_metrics

__all__ = [
    "ERRORS",
    "HISTOGRAMS",
    "INF",
    "QUEUE_WAIT",
    "RUN_TIME",
    "Histogram",
    "JobMetrics",
    "add_rows",
    "error_from",
    "error_row",
    "le_label",
    "read",
    "run_rows",
    "run_rows_from",
]


def observation_rows(style: str, name: str, seconds: float) -> list[dict[str, object]]:
    """The rows one observation of ``seconds`` adds 1 to: every bucket at or above it."""
    seconds = max(float(seconds), 0.0)
    bounds = [*HISTOGRAMS[name], math.inf]
    return [
        {"style": style, "name": name, "label": le_label(b), "count": 1, "total": seconds}
        for b in bounds
        if seconds <= b
    ]


def run_rows(
    style: str, created_at: datetime, started_at: datetime | None, finished_at: datetime
) -> list[dict[str, object]]:
    """The rows a success adds to: its queue wait and its run time."""
    started = started_at or created_at
    wait = (started - created_at).total_seconds()
    run = (finished_at - started).total_seconds()
    return [*observation_rows(style, QUEUE_WAIT, wait), *observation_rows(style, RUN_TIME, run)]


def _upsert(stmt: Insert) -> Insert:
    """``… ON CONFLICT (style, name, label) DO UPDATE`` adding the new count and total."""
    assert isinstance(stmt, (postgresql.Insert, sqlite.Insert))
    return stmt.on_conflict_do_update(
        index_elements=[job_metrics.c.style, job_metrics.c.name, job_metrics.c.label],
        set_={
            "count": job_metrics.c.count + stmt.excluded.count,
            "total": job_metrics.c.total + stmt.excluded.total,
        },
    )


def _insert(dialect: str) -> Insert:
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(job_metrics)


def add_rows(dialect: str) -> Insert:
    """The upsert of one row, to execute with the rows of :func:`run_rows` or
    :func:`error_row` as its parameters (a statement holding the rows themselves differs
    with their number, so SQLAlchemy would compile it anew for every job)."""
    return _upsert(_insert(dialect))


def error_row(style: str, code: str) -> dict[str, object]:
    """The row one failed attempt adds to."""
    return {"style": style, "name": ERRORS, "label": code[:100], "count": 1, "total": 0.0}


def _bucket_table() -> ColumnElement[object] | object:
    rows = [
        (name, le_label(b), None if math.isinf(b) else b)
        for name, bounds in HISTOGRAMS.items()
        for b in (*bounds, math.inf)
    ]
    return values(
        column("name", String()), column("label", String()), column("bound", Float()), name="b"
    ).data(rows)


def run_rows_from(done: CTE) -> Insert:
    """PostgreSQL: the upsert of a success's buckets, reading ``style``, ``created_at``,
    ``started_at`` and ``finished_at`` from ``done`` (the success's ``RETURNING``), for a
    ``WITH`` clause next to the run statistics (see :mod:`pixserve.queue.finish`)."""
    buckets = _bucket_table()
    started = done.c.started_at
    wait = extract("epoch", started - done.c.created_at)
    run = extract("epoch", done.c.finished_at - started)
    b = buckets.c  # type: ignore[attr-defined]
    seen = case((b.name == QUEUE_WAIT, wait), else_=run)
    seen = case((seen < 0, literal(0.0, Float())), else_=seen)
    rows = (
        select(done.c.style, b.name, b.label, literal(1, BigInteger()), seen)
        .select_from(done.join(buckets, true()))  # type: ignore[arg-type]
        .where(or_(b.bound.is_(None), seen <= b.bound))
    )
    stmt = _insert("postgresql").from_select(["style", "name", "label", "count", "total"], rows)
    return _upsert(stmt)


def error_from(done: CTE) -> Insert:
    """PostgreSQL: the upsert of one failed attempt (code ``:p_code``) of the job ``done``
    returns (its ``style``), for a ``WITH`` clause after ``done AS (UPDATE …)``."""
    code = bindparam("p_code", type_=String())
    rows = select(done.c.style, literal(ERRORS), code, literal(1, BigInteger()), literal(0.0))
    stmt = _insert("postgresql").from_select(
        ["style", "name", "label", "count", "total"], rows.select_from(done)
    )
    return _upsert(stmt)


def read(rows: list[tuple[str, str, str, int, float]]) -> JobMetrics:
    """``JobMetrics`` from the table's rows (any order); buckets sorted by bound."""
    hist: dict[tuple[str, str], dict[str, tuple[int, float]]] = {}
    errors: dict[tuple[str, str], int] = {}
    for style, name, label, count, total in rows:
        if name == ERRORS:
            errors[(style, label)] = int(count)
        elif name in HISTOGRAMS:
            hist.setdefault((style, name), {})[label] = (int(count), float(total))
    histograms: dict[tuple[str, str], Histogram] = {}
    for (style, name), got in hist.items():
        buckets: list[tuple[str, int]] = []
        last = 0
        for bound in (*HISTOGRAMS[name], math.inf):
            label = le_label(bound)
            # A bucket never reached is the one below it (counts are cumulative).
            last = got.get(label, (last, 0.0))[0]
            buckets.append((label, last))
        histograms[(style, name)] = Histogram(tuple(buckets), got.get(INF, (0, 0.0))[1])
    return JobMetrics(histograms, errors)
