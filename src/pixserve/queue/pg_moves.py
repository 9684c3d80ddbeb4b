"""``PgMoves``: a worker's own moves on PostgreSQL (claim, heartbeat, finish), sent straight
through psycopg. A finish and everything that goes with it is one statement
(:mod:`pixserve.queue.finish`).

These few statements are what every worker runs for every job, so on a busy queue they are
the queue. Through SQLAlchemy a claim plus a finish cost a worker process about 1.7 ms of CPU
on the 2-core reference machine; straight through psycopg, about 0.4 ms. With 16 worker
processes sharing two cores, that client time is what bounds throughput, so here:

* the SQL is still built by SQLAlchemy (:mod:`pixserve.queue.claim`), but compiled once per
  shape into text psycopg runs as it is;
* each statement is its own transaction on an autocommit connection: one round trip instead
  of three (``BEGIN``, statement, ``COMMIT``), and no row lock held while a client waits for
  a core. The sessions run with ``synchronous_commit = off``: a database crash may lose the
  last milliseconds of moves, which only makes a job run again once its lease runs out (the
  lost run's guarded finish changes nothing), never loses one (docs/architecture.md);
* statements are prepared on the server from their first run;
* bound dicts (an outbox row's payload) go as JSON, as SQLAlchemy's JSON type would send them;
* connections come from a small pool of their own, kept apart from SQLAlchemy's so that the
  autocommit mode is never switched back and forth.

Everything else the store does (enqueue, cancel, reads, upkeep) stays on SQLAlchemy.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import ClauseElement, String, Update, bindparam, func, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import JSON

from pixserve.core.errors import Unavailable
from pixserve.domain.job import Crop
from pixserve.queue.claim import claim_oldest, owned_params, owned_update, requeue_expired
from pixserve.queue.columns import CropText, UtcDateTime
from pixserve.queue.finish import finish_chain
from pixserve.queue.listen import CHANNEL, MOVES_CHANNEL
from pixserve.queue.tables import jobs

if TYPE_CHECKING:
    import psycopg

#: Idle connections a store keeps; a worker process needs one per worker thread and one per
#: running job's heartbeat, briefly.
KEEP_IDLE = 16

_DIALECT = postgresql.psycopg.dialect()


class _Compiled:
    """A statement as psycopg runs it: its SQL text and the values SQLAlchemy bound itself."""

    def __init__(self, statement: ClauseElement) -> None:
        compiled = statement.compile(dialect=_DIALECT)
        self.sql = compiled.string
        # Names the caller binds (p_*, v_*) come with None; the rest are SQLAlchemy's constants.
        self.constants = {
            name: value
            for name, value in compiled.params.items()
            if not name.startswith(("p_", "v_"))
        }

    def params(self, given: Mapping[str, object]) -> dict[str, object]:
        from psycopg.types.json import Json

        bound = {k: Json(v) if isinstance(v, dict) else v for k, v in given.items()}
        return {**self.constants, **bound}


def _to_utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def _crop(value: str | None) -> Crop | None:
    return None if value is None else Crop.parse(value)


def _json(value: object) -> object:
    return json.loads(value) if isinstance(value, str | bytes) else value


def _converter(column_type: object) -> Callable[[Any], Any] | None:
    """What SQLAlchemy's result processing does for a column of ``jobs``."""
    if isinstance(column_type, UtcDateTime):
        return _to_utc
    if isinstance(column_type, CropText):
        return _crop
    if isinstance(column_type, JSON):
        return _json
    return None


_COLUMNS = [column.name for column in jobs.c]
_CONVERTERS = [(i, c) for i, column in enumerate(jobs.c) if (c := _converter(column.type))]


def job_row(values: Sequence[Any]) -> dict[str, Any]:
    """A ``RETURNING`` row of every ``jobs`` column, as ``job_from_row`` reads it."""
    row = list(values)
    for index, convert in _CONVERTERS:
        row[index] = convert(row[index])
    return dict(zip(_COLUMNS, row, strict=True))


@lru_cache(maxsize=64)
def _claim(filtered: bool, limit: int) -> _Compiled:
    return _Compiled(claim_oldest(filtered, limit, styles_array=True))


@lru_cache(maxsize=1)
def _requeue() -> _Compiled:
    return _Compiled(requeue_expired())


@lru_cache(maxsize=1)
def _notify() -> _Compiled:
    return _Compiled(select(func.pg_notify(CHANNEL, "")))


@lru_cache(maxsize=1)
def _moved() -> _Compiled:
    return _Compiled(select(func.pg_notify(MOVES_CHANNEL, bindparam("p_payload", type_=String))))


@lru_cache(maxsize=64)
def _owned(keys: tuple[str, ...]) -> _Compiled:
    return _Compiled(owned_update(keys, bound=True))


@lru_cache(maxsize=64)
def _finish(update: Update, run: bool, error: bool, news: int) -> _Compiled:
    # ``update`` comes from a cached builder: the same object for the same shape.
    return _Compiled(finish_chain(update, run=run, error=error, news=news))


class PgMoves:
    """Claims and guarded updates on autocommit psycopg connections of their own.

    Connection failures raise :class:`Unavailable`; the broken connection and every idle one
    are dropped (a restarted server has closed them all), and the next call connects anew.
    """

    def __init__(self, conninfo: str, *, connect_timeout: float = 10.0) -> None:
        self._conninfo = conninfo
        self._connect_timeout = connect_timeout
        self._idle: list[psycopg.Connection[Any]] = []
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._closed = False

    def _connect(self) -> psycopg.Connection[Any]:
        import psycopg

        return psycopg.connect(
            self._conninfo,
            autocommit=True,
            prepare_threshold=0,
            connect_timeout=max(1, round(self._connect_timeout)),
            options="-c synchronous_commit=off",
        )

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        import psycopg

        conn = None
        with self._lock:
            if self._pid != os.getpid():  # forked: the parent's sockets are not ours
                self._idle, self._pid = [], os.getpid()
            if self._idle:
                conn = self._idle.pop()
        try:
            if conn is None:
                conn = self._connect()
            yield conn
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            if conn is not None:
                conn.close()
            self._drop_idle()
            raise Unavailable(f"the job database is unavailable: {exc}") from exc
        except BaseException:
            if conn is not None:
                self._give_back(conn)
            raise
        else:
            self._give_back(conn)

    def _give_back(self, conn: psycopg.Connection[Any]) -> None:
        from psycopg.pq import TransactionStatus

        healthy = not conn.closed and conn.info.transaction_status == TransactionStatus.IDLE
        with self._lock:
            if healthy and not self._closed and len(self._idle) < KEEP_IDLE:
                self._idle.append(conn)
                return
        conn.close()

    def _drop_idle(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def claim(
        self,
        params: Mapping[str, object],
        *,
        styles: Collection[str] | None,
        limit: int,
        sweep_at: datetime | None,
    ) -> tuple[list[dict[str, Any]], int]:
        """Run the claim (after the lease sweep, if ``sweep_at``); the claimed rows and the
        number of jobs the sweep requeued (whose wake-up is already sent)."""
        statement = _claim(styles is not None, limit)
        requeued = 0
        with self._connection() as conn:
            if sweep_at is not None:
                sweep = _requeue()
                requeued = conn.execute(
                    sweep.sql, sweep.params({"p_now": sweep_at}), prepare=True
                ).rowcount
                if requeued:
                    notify = _notify()
                    conn.execute(notify.sql, notify.params({}), prepare=True)
            rows = conn.execute(statement.sql, statement.params(params), prepare=True).fetchall()
        return [job_row(row) for row in rows], requeued

    def update_owned(self, job_id: str, worker_id: str, values: Mapping[str, object]) -> bool:
        """``owned_update`` with bound values; whether the worker still owned the job."""
        statement = _owned(tuple(sorted(values)))
        params = owned_params(job_id, worker_id, values)
        with self._connection() as conn:
            cursor = conn.execute(statement.sql, statement.params(params), prepare=True)
            return cursor.rowcount == 1

    def finish(
        self,
        update: Update,
        params: Mapping[str, object],
        *,
        run: bool,
        error: bool,
        news: int,
    ) -> dict[str, Any] | None:
        """:func:`~pixserve.queue.finish.finish_chain` in one round trip; the job's row, or
        None if the worker no longer owned the job."""
        statement = _finish(update, run, error, news)
        with self._connection() as conn:
            row = conn.execute(statement.sql, statement.params(params), prepare=True).fetchone()
        return None if row is None else job_row(row)

    def moved(self, payload: str) -> None:
        """Tell every process's event hub that a job moved (ended or handed back);
        ``payload`` names the job (see ``SqlJobStore._moved``)."""
        moved = _moved()
        with self._connection() as conn:
            conn.execute(moved.sql, moved.params({"p_payload": payload}), prepare=True)

    def notify(self) -> None:
        """Wake the workers of every process (a finish put a job back in the queue)."""
        notify = _notify()
        with self._connection() as conn:
            conn.execute(notify.sql, notify.params({}), prepare=True)

    def claim_sql(self, filtered: bool, limit: int) -> tuple[str, dict[str, Any]]:
        """The claim's SQL text and SQLAlchemy's own values for it (for EXPLAIN in tests)."""
        statement = _claim(filtered, limit)
        return statement.sql, dict(statement.constants)

    def close(self) -> None:
        """Close the idle connections; ones in use close when they come back."""
        with self._lock:
            self._closed = True
        self._drop_idle()
