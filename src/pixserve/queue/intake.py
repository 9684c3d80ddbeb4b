"""``IntakeStore``: the shared intake state (the operator's pause and jobs accepted per hour).

Every web node reads the same switch and the same counts, so a pause or a spent budget
closes intake everywhere. :class:`~pixserve.queue.intake_sql.SqlIntakeStore` keeps both in the
job database (migration 0006); unit tests run it on a migrated SQLite file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class IntakeSwitch:
    """The operator's switch: whether intake is paused, why, and since when."""

    paused: bool
    note: str | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class Window:
    """A budget window: at most ``cap`` jobs in the hours from ``first_hour`` on."""

    first_hour: int
    cap: int


class IntakeStore(Protocol):
    """The intake state every node shares."""

    def switch(self) -> IntakeSwitch:
        """The switch as it is now."""
        ...

    def set_paused(self, paused: bool, note: str | None = None) -> IntakeSwitch:
        """Pause (or resume) intake for every node; return the new switch."""
        ...

    def admit(self, hour: int, windows: Sequence[Window]) -> int | None:
        """Count one job in ``hour`` unless a window is full; None, or the full window's index.

        The check and the count are one transaction, serialised across nodes, so a budget is
        not overshot by submissions racing each other.
        """
        ...

    def accepted(self, since_hour: int) -> dict[int, int]:
        """Jobs accepted per hour, for the hours from ``since_hour`` on that have any."""
        ...

    def failures(self, since: datetime) -> list[tuple[datetime, str]]:
        """(finished_at, error_code) of the jobs that failed since ``since``, still kept."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
