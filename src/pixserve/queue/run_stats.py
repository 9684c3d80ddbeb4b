"""Per-style run statistics, for ETAs: how many runs of a style succeeded and how long one
takes.

A store records a run in the same transaction as the job's success, in the ``style_stats``
table, not derived from kept jobs: deleting jobs (a user's "Delete my images", retention)
leaves the statistics alone.

The mean is exponentially weighted, so it follows a style that got faster (another engine)
or slower (larger photos): each run moves it by ``WEIGHT`` of the difference. The first
``WARMUP`` runs are averaged equally instead, so a style's first run is its mean at once
and an early outlier does not linger.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Float, Insert, bindparam, case, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.selectable import CTE

from pixserve.queue.columns import UtcDateTime
from pixserve.queue.tables import style_stats

#: How far one run moves the mean once warmed up.
WEIGHT = 0.2
#: Runs averaged equally before the weighting starts (1 / WEIGHT: the two agree there).
WARMUP = round(1 / WEIGHT)


@dataclass(frozen=True)
class RunStats:
    """What the queue knows about a style's run time."""

    style: str
    #: Successful runs recorded.
    runs: int
    #: Their weighted mean, in seconds.
    mean_seconds: float


def next_mean(runs: int, mean: float, seconds: float) -> float:
    """The mean after one more run of ``seconds``, when ``runs`` runs averaged ``mean``.

    The formula :func:`record_run` writes in SQL, in Python (tests check one against the other).
    """
    weight = 1.0 / (runs + 1) if runs < WARMUP else WEIGHT
    return mean + (seconds - mean) * weight


def _weight() -> ColumnElement[float]:
    runs = style_stats.c.runs
    one = literal(1.0, Float())
    return case((runs < WARMUP, one / (runs + one)), else_=literal(WEIGHT, Float()))


def record_run(dialect: str, done: CTE | None = None) -> Insert:
    """``INSERT INTO style_stats … ON CONFLICT (style) DO UPDATE``: one run of
    ``:p_seconds`` at ``:p_now``, by :func:`next_mean`.

    Without ``done`` the style is ``:p_style``. With it (PostgreSQL only: the ``RETURNING``
    of the guarded success, as a ``WITH`` clause) the style comes from that row, so nothing is
    recorded when the guard did not match (see :mod:`pixserve.queue.finish`).
    """
    seconds = bindparam("p_seconds", type_=Float())
    now = bindparam("p_now", type_=UtcDateTime())
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    if done is None:
        stmt = insert(style_stats).values(
            style=bindparam("p_style"), runs=1, mean_seconds=seconds, updated_at=now
        )
    else:
        rows = select(done.c.style, literal(1), seconds, now).select_from(done)
        stmt = insert(style_stats).from_select(
            ["style", "runs", "mean_seconds", "updated_at"], rows
        )
    mean = style_stats.c.mean_seconds
    return stmt.on_conflict_do_update(
        index_elements=[style_stats.c.style],
        set_={
            "runs": style_stats.c.runs + 1,
            "mean_seconds": mean + (stmt.excluded.mean_seconds - mean) * _weight(),
            "updated_at": stmt.excluded.updated_at,
        },
    )
