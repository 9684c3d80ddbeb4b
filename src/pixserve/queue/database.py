"""``SqlDatabase``: what pixserve's SQL stores (jobs, outbox) share.

An engine (:func:`~pixserve.queue.engine.create_job_engine`), durable write transactions and
read connections that turn connection failures into :class:`Unavailable`, and the clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from pixserve.core.errors import Unavailable
from pixserve.queue.clock import Clock, read_clock, utc_now
from pixserve.queue.engine import WRITE, create_job_engine


class SqlDatabase:
    """The job database as a store sees it; ``clock`` returns the current aware time."""

    def __init__(
        self, database_url: str, *, clock: Clock = utc_now, busy_timeout: float = 10.0
    ) -> None:
        self._engine = create_job_engine(database_url, busy_timeout=busy_timeout)
        self._writer = self._engine.execution_options(**{WRITE: True})
        self._clock = clock

    def __repr__(self) -> str:
        url = self._engine.url.render_as_string(hide_password=True)
        return f"{type(self).__name__}({url!r})"

    def _now(self) -> datetime:
        return read_clock(self._clock)

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A durable write transaction (``BEGIN IMMEDIATE`` on SQLite)."""
        with unavailable_on_db_errors(), self._writer.begin() as connection:
            yield connection

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with unavailable_on_db_errors(), self._engine.connect() as connection:
            yield connection

    def close(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()


@contextmanager
def unavailable_on_db_errors() -> Iterator[None]:
    """Turn connection-level database failures into :class:`Unavailable`."""
    try:
        yield
    except (OperationalError, InterfaceError) as exc:
        # InterfaceError: psycopg's "the connection is closed" after a server restart.
        raise Unavailable(f"the job database is unavailable: {exc.orig}") from exc
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise Unavailable(f"lost the connection to the job database: {exc.orig}") from exc
        raise
