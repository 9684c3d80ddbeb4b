"""Column types of the jobs table: UTC timestamps and crops stored as text."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from pixserve.domain.job import Crop


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always returned timezone-aware (UTC).

    SQLite has no time zones: it stores the naive UTC wall time, in a fixed-width text form
    that sorts and compares correctly. PostgreSQL stores a ``timestamptz``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert an aware datetime to UTC (naive on SQLite); refuse naive datetimes."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware one")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Return the stored time as an aware UTC datetime."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class CropText(TypeDecorator[Crop]):
    """A :class:`Crop` stored as ``"x,y,w,h"`` text."""

    impl = String(64)
    cache_ok = True

    def process_bind_param(self, value: Crop | None, dialect: Dialect) -> str | None:
        """Format the crop as ``"x,y,w,h"``."""
        return None if value is None else str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Crop | None:
        """Parse ``"x,y,w,h"`` back into a crop."""
        return None if value is None else Crop.parse(value)
