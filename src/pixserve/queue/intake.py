"""``IntakeStore``: the shared intake state (the operator's pause and jobs accepted per hour).

Every web node reads the same switch and the same counts, so a pause or a spent budget
closes intake everywhere. ``MemoryIntakeStore`` is the in-memory twin for unit tests and
``memory://`` databases; :class:`~pixserve.queue.intake_sql.SqlIntakeStore` keeps both in the
job database (migration 0006).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from pixserve.queue.clock import Clock, read_clock, utc_now


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


class MemoryIntakeStore:
    """An :class:`IntakeStore` in memory; ``failed`` lists failures (from a memory job store)."""

    def __init__(
        self,
        *,
        clock: Clock = utc_now,
        failed: Callable[[datetime], list[tuple[datetime, str]]] | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._switch = IntakeSwitch(paused=False)
        self._counts: dict[int, int] = {}
        self._failed = failed

    def switch(self) -> IntakeSwitch:
        with self._lock:
            return self._switch

    def set_paused(self, paused: bool, note: str | None = None) -> IntakeSwitch:
        with self._lock:
            self._switch = IntakeSwitch(paused, note, read_clock(self._clock))
            return self._switch

    def admit(self, hour: int, windows: Sequence[Window]) -> int | None:
        with self._lock:
            for i, window in enumerate(windows):
                used = sum(n for h, n in self._counts.items() if window.first_hour <= h <= hour)
                if used >= window.cap:
                    return i
            self._counts[hour] = self._counts.get(hour, 0) + 1
            return None

    def accepted(self, since_hour: int) -> dict[int, int]:
        with self._lock:
            return {h: n for h, n in sorted(self._counts.items()) if h >= since_hour}

    def failures(self, since: datetime) -> list[tuple[datetime, str]]:
        return self._failed(since) if self._failed is not None else []

    def close(self) -> None:
        return None
