"""``PgListener``: PostgreSQL ``LISTEN`` on a side thread, turned into calls.

Stores announce claimable jobs with ``pg_notify`` on :data:`CHANNEL` inside the transaction
that queued them, so the notification is delivered on commit, to every process listening;
and the id of each job a worker ends or hands back on :data:`MOVES_CHANNEL`, for the web
processes' event hubs. The listener holds one dedicated autocommit connection (not a pooled
one); when it breaks it reconnects with backoff, and after each (re)connect it calls
``on_connect``, since notifications sent while it was deaf are gone: the store then wakes
its workers once. Workers keep polling slowly as well, and hubs read every tick, so a lost
notification only costs latency, never a job.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy.engine import URL

log = logging.getLogger(__name__)

#: The channel pixserve's stores notify and listen on for claimable jobs.
CHANNEL = "pixserve_jobs"
#: The channel that carries the id of each job a worker ended or handed back.
MOVES_CHANNEL = "pixserve_moves"

#: How long one wait for notifications lasts before the thread checks whether to stop.
_WAIT_SECONDS = 1.0


def libpq_conninfo(url: URL) -> str:
    """The libpq connection string for a SQLAlchemy PostgreSQL URL (driver name dropped)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class PgListener:
    """Listens on ``channel`` and calls ``on_notify(payload)`` for every notification, and
    ``on_connect()`` each time the connection is (re)made.

    ``connected`` is set while the ``LISTEN`` connection is up. :meth:`close` asks the thread
    to stop; it does within about a second.
    """

    def __init__(
        self,
        conninfo: str,
        on_notify: Callable[[str], None],
        *,
        on_connect: Callable[[], None] | None = None,
        channel: str = CHANNEL,
        max_backoff: float = 10.0,
    ) -> None:
        self.conninfo = conninfo
        self.on_notify = on_notify
        self.on_connect = on_connect
        self.channel = channel
        self.max_backoff = max_backoff
        self.connected = threading.Event()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pixserve-listen", daemon=True)

    def start(self) -> None:
        """Start listening on the side thread."""
        self._thread.start()

    def close(self) -> None:
        """Stop listening; the thread closes its connection within about a second."""
        self._closed.set()

    def _run(self) -> None:
        import psycopg  # only PostgreSQL deployments need it

        backoff = 0.2
        while not self._closed.is_set():
            try:
                with psycopg.connect(
                    self.conninfo,
                    autocommit=True,
                    connect_timeout=5,
                    keepalives=1,
                    keepalives_idle=30,
                    keepalives_interval=10,
                    keepalives_count=3,
                ) as conn:
                    conn.execute(f'LISTEN "{self.channel}"')
                    self.connected.set()
                    backoff = 0.2
                    if self.on_connect is not None:
                        self.on_connect()
                    while not self._closed.is_set():
                        for notification in conn.notifies(timeout=_WAIT_SECONDS):
                            self.on_notify(notification.payload)
            except psycopg.Error as exc:
                if self._closed.is_set():
                    break
                log.warning("LISTEN connection lost (%s); retrying in %.1fs", exc, backoff)
            finally:
                self.connected.clear()
            self._closed.wait(backoff)
            backoff = min(backoff * 2, self.max_backoff)
