"""``SqlIntakeStore``: the intake switch and the per-hour counts in the job database.

``admit`` locks the switch row (``SELECT … FOR UPDATE`` on PostgreSQL; ``BEGIN IMMEDIATE``
already serialises writers on SQLite), sums the budget windows, then upserts the hour's count,
so nodes racing for the last job of a budget take turns.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from pixserve.queue.database import SqlDatabase
from pixserve.queue.intake import IntakeStore, IntakeSwitch, Window
from pixserve.queue.tables import intake_counts, intake_switch, jobs

_SWITCH_ID = 1


class SqlIntakeStore(SqlDatabase):
    """An :class:`~pixserve.queue.intake.IntakeStore` on SQLAlchemy Core (migration 0006)."""

    def switch(self) -> IntakeSwitch:
        with self._read() as conn:
            row = conn.execute(
                select(intake_switch).where(intake_switch.c.id == _SWITCH_ID)
            ).mappings()
            return _switch(row.one_or_none())

    def set_paused(self, paused: bool, note: str | None = None) -> IntakeSwitch:
        with self._write() as conn:
            result = conn.execute(
                update(intake_switch)
                .where(intake_switch.c.id == _SWITCH_ID)
                .values(paused=paused, note=note, updated_at=self._now())
                .returning(*intake_switch.c)
            ).mappings()
            return _switch(result.one_or_none())

    def admit(self, hour: int, windows: Sequence[Window]) -> int | None:
        with self._write() as conn:
            if windows:
                conn.execute(
                    select(intake_switch.c.id)
                    .where(intake_switch.c.id == _SWITCH_ID)
                    .with_for_update()
                )
                for i, window in enumerate(windows):
                    used = conn.execute(
                        select(func.coalesce(func.sum(intake_counts.c.jobs), 0)).where(
                            intake_counts.c.hour >= window.first_hour,
                            intake_counts.c.hour <= hour,
                        )
                    ).scalar_one()
                    if used >= window.cap:
                        return i
            _count(conn, hour)
            return None

    def accepted(self, since_hour: int) -> dict[int, int]:
        with self._read() as conn:
            rows = conn.execute(
                select(intake_counts.c.hour, intake_counts.c.jobs)
                .where(intake_counts.c.hour >= since_hour)
                .order_by(intake_counts.c.hour)
            )
            return {int(h): int(n) for h, n in rows}

    def failures(self, since: datetime) -> list[tuple[datetime, str]]:
        with self._read() as conn:
            rows = conn.execute(
                select(jobs.c.finished_at, jobs.c.error_code).where(
                    jobs.c.status == "failed", jobs.c.finished_at >= since
                )
            )
            return [(at, code or "unknown") for at, code in rows]


def _count(conn: Connection, hour: int) -> None:
    insert: Any = (postgresql if conn.dialect.name == "postgresql" else sqlite).insert
    stmt = insert(intake_counts).values(hour=hour, jobs=1)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[intake_counts.c.hour], set_={"jobs": intake_counts.c.jobs + 1}
        )
    )


def _switch(row: Any) -> IntakeSwitch:
    if row is None:  # a database migrated by hand without the row: open
        return IntakeSwitch(paused=False)
    return IntakeSwitch(bool(row["paused"]), row["note"], row["updated_at"])


def open_intake_store(url: str) -> IntakeStore:
    """The intake store beside the job store at ``url`` (a SQLite or PostgreSQL URL)."""
    return SqlIntakeStore(url.strip())
