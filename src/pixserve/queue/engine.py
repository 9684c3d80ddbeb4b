"""SQLAlchemy engines for the job store, with SQLite set up to be a safe shared queue.

SQLite: WAL (readers never block the writer), a busy timeout (writers wait their turn
instead of failing), foreign keys on, and pysqlite's own transaction handling switched off
so that SQLAlchemy emits ``BEGIN`` itself (the "Enabling Non-Legacy SQLite Transactional
Modes" recipe in SQLAlchemy's SQLite docs). Connections carrying the :data:`WRITE`
execution option begin with ``BEGIN IMMEDIATE``: the write lock is taken up front, so a
read-then-write transaction can never fail half-way with "database is locked".
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url

from pixserve.core.errors import PixserveError

#: Execution option marking an engine whose transactions write (``BEGIN IMMEDIATE``).
WRITE = "pixserve_write"


def normalize_url(database_url: str) -> URL:
    """Parse a database URL; ``postgres://`` and ``postgresql://`` use psycopg 3.

    SQLAlchemy before 2.1 picks psycopg2 for a bare ``postgresql://``; pixserve ships psycopg 3.
    """
    if database_url.startswith("postgres://"):
        database_url = "postgresql://" + database_url.removeprefix("postgres://")
    url = make_url(database_url)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url


def is_sqlite(url: URL) -> bool:
    """Whether ``url`` names a SQLite database."""
    return url.get_backend_name() == "sqlite"


def create_job_engine(database_url: str, *, busy_timeout: float = 10.0) -> Engine:
    """An engine for the job store; see the module docstring for what SQLite gets.

    Write transactions should go through ``engine.execution_options(**{WRITE: True})``.
    Raises :class:`PixserveError` for in-memory SQLite (each connection would see its own
    empty database; use ``memory://`` for an in-memory job store) and when the database
    driver is not installed.
    """
    url = normalize_url(database_url)
    if not is_sqlite(url):
        try:
            # A worker process runs a thread per worker plus one heartbeat thread per running
            # job, each holding a connection briefly: size the pool for that. A connection a
            # database restart killed fails once as Unavailable and invalidates the pool.
            # (A worker's own moves do not come through here: see pg_moves.py.)
            return create_engine(url, pool_size=20, max_overflow=20, pool_timeout=10)
        except ImportError as exc:
            raise PixserveError(
                f"the {url.get_backend_name()} driver is not installed ({exc}); "
                "for PostgreSQL install psycopg: pip install 'psycopg[binary]'"
            ) from exc
    database = url.database or ""
    if database in ("", ":memory:") or url.query.get("mode") == "memory":
        raise PixserveError(
            "an in-memory SQLite database cannot be shared between connections; "
            "use a file (sqlite:///path/pixserve.db) or memory:// for tests"
        )
    if not database.startswith("file:"):
        # If this fails, connecting fails too, and the store reports Unavailable.
        with contextlib.suppress(OSError):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": busy_timeout})
    busy_ms = int(busy_timeout * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        # Stop pysqlite from issuing (or skipping) BEGIN on its own; _on_begin does it.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
            cursor.execute("PRAGMA foreign_keys = ON")
            _switch_to_wal(cursor, busy_timeout)
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        if connection.get_execution_options().get(WRITE):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")

    return engine


def _switch_to_wal(cursor: Any, timeout: float) -> None:
    """Put the database file in WAL mode (it stays so), retrying while another process holds it.

    Switching takes an exclusive lock. When two processes open a fresh database at once (a
    server and its workers starting together), one of them can get "database is locked" at
    once, without the busy timeout: SQLite refuses to wait when the other side waits for it.
    Retrying after a pause, with no lock held, always ends: the other process finishes its
    switch or its write, and the next attempt finds WAL already on or takes the lock.
    """
    deadline = time.monotonic() + timeout
    pause = 0.01
    while True:
        try:
            (mode,) = cursor.execute("PRAGMA journal_mode").fetchone()
            if str(mode).lower() != "wal":
                cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.25)
