"""``Wakeup``: tells idle workers of this process that jobs may be waiting; ``MoveListeners``: tell
this process's web app which jobs its workers just ended.

A store calls :meth:`Wakeup.notify` when a job may have become claimable (enqueued, retried,
handed back, or announced by another process through PostgreSQL ``NOTIFY``). Workers hand in
a ``threading.Event`` and sleep on it instead of polling the database in a tight loop; the
poll interval stays as the fallback for what no notification covers (an expired lease).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Wakeup:
    """A thread-safe set of events, all set by one :meth:`notify`."""

    def __init__(self) -> None:
        self._events: set[threading.Event] = set()
        self._lock = threading.Lock()

    def watch(self, event: threading.Event) -> Callable[[], None]:
        """Set ``event`` on every later :meth:`notify`; return a function that stops that."""
        with self._lock:
            self._events.add(event)

        def unwatch() -> None:
            with self._lock:
                self._events.discard(event)

        return unwatch

    @property
    def watchers(self) -> int:
        """How many events are watched now."""
        with self._lock:
            return len(self._events)

    def notify(self) -> None:
        """Set every watched event."""
        with self._lock:
            events = list(self._events)
        for event in events:
            event.set()


class MoveListeners:
    """Thread-safe callbacks, each told the id of every job this process's workers ended
    (succeeded, failed, or sent back to the queue), so the web app of the same process can
    show it at once instead of at its next read (``WatchHub.moved``)."""

    def __init__(self) -> None:
        self._callbacks: set[Callable[[str], None]] = set()
        self._lock = threading.Lock()

    def watch(self, callback: Callable[[str], None]) -> Callable[[], None]:
        """Call ``callback(job_id)`` after every later move; return a function that stops it."""
        with self._lock:
            self._callbacks.add(callback)

        def unwatch() -> None:
            with self._lock:
                self._callbacks.discard(callback)

        return unwatch

    def announce(self, job_id: str) -> None:
        """Tell every callback that ``job_id`` moved; a failing callback is logged, not
        raised: the move itself is done and committed."""
        with self._lock:
            callbacks = list(self._callbacks)
        for callback in callbacks:
            try:
                callback(job_id)
            except Exception:
                log.exception("a listener of job moves failed on job %s", job_id)
