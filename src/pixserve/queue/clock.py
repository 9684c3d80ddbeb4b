"""The clock job stores read: injectable, so lease tests move time instead of sleeping."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

#: A function returning the current time as a timezone-aware datetime.
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def read_clock(clock: Clock) -> datetime:
    """Call ``clock`` and return its time in UTC; raise ``ValueError`` if it is naive."""
    now = clock()
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("the job store clock must return timezone-aware datetimes")
    return now.astimezone(UTC)
