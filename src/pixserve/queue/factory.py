"""``open_job_store``: turn a database URL from the settings into a ``JobStore``."""

from __future__ import annotations

from pixserve.core.errors import PixserveError
from pixserve.queue.engine import normalize_url
from pixserve.queue.memory import MemoryJobStore
from pixserve.queue.migrate import upgrade
from pixserve.queue.sql import SqlJobStore
from pixserve.queue.store import JobStore


def open_job_store(url: str, *, migrate: bool = False) -> JobStore:
    """Open the job store that ``url`` names.

    * ``memory://`` → a fresh, empty :class:`MemoryJobStore` (``migrate`` is ignored);
    * ``sqlite:///path/to/pixserve.db`` → :class:`SqlJobStore` (the folder is created);
    * ``postgresql://…`` (or ``postgres://``) → :class:`SqlJobStore` with psycopg 3.

    With ``migrate=True`` the schema is brought up to date first. Raises
    :class:`PixserveError` for other schemes or a missing driver.
    """
    if not url or not url.strip():
        raise PixserveError("the database URL is empty")
    url = url.strip()
    if url.lower().startswith("memory:"):
        return MemoryJobStore()
    try:
        backend = normalize_url(url).get_backend_name()
    except Exception as exc:  # sqlalchemy.exc.ArgumentError and friends
        raise PixserveError(f"cannot parse the database URL: {exc}") from exc
    if backend not in ("sqlite", "postgresql"):
        raise PixserveError(f"unsupported database {backend!r} (use sqlite:// or postgresql://)")
    if migrate:
        upgrade(url)
    return SqlJobStore(url)
