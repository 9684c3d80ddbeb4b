"""``open_job_store``: turn a database URL from the settings into a ``JobStore``."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from pixserve.core.errors import PixserveError
from pixserve.queue.engine import normalize_url
from pixserve.queue.migrate import upgrade
from pixserve.queue.sql import SqlJobStore


def open_job_store(url: str, *, migrate: bool = False) -> SqlJobStore:
    """Open the job store that ``url`` names.

    * ``memory://`` → a fresh, empty, migrated SQLite database of its own, removed on close
      (``migrate`` is implied);
    * ``sqlite:///path/to/pixserve.db`` → :class:`SqlJobStore` (the folder is created);
    * ``postgresql://…`` (or ``postgres://``) → :class:`SqlJobStore` with psycopg 3.

    With ``migrate=True`` the schema is brought up to date first. Raises
    :class:`PixserveError` for other schemes or a missing driver.
    """
    if not url or not url.strip():
        raise PixserveError("the database URL is empty")
    url = url.strip()
    if url.lower().startswith("memory:"):
        return ScratchJobStore()
    try:
        backend = normalize_url(url).get_backend_name()
    except Exception as exc:  # sqlalchemy.exc.ArgumentError and friends
        raise PixserveError(f"cannot parse the database URL: {exc}") from exc
    if backend not in ("sqlite", "postgresql"):
        raise PixserveError(f"unsupported database {backend!r} (use sqlite:// or postgresql://)")
    if migrate:
        upgrade(url)
    return SqlJobStore(url)


class ScratchJobStore(SqlJobStore):
    """``memory://``: a migrated SQLite file in a private temp folder that ``close`` removes.

    A file rather than SQLite's ``:memory:``: every pooled connection (a worker thread, a
    heartbeat) sees the same database, with WAL and the busy timeout as in production.
    """

    def __init__(self) -> None:
        self._folder = Path(tempfile.mkdtemp(prefix="pixserve-jobs-"))
        url = f"sqlite:///{self._folder / 'jobs.db'}"
        upgrade(url)
        super().__init__(url)

    def close(self) -> None:
        """Close the connections and remove the database."""
        super().close()
        shutil.rmtree(self._folder, ignore_errors=True)
