"""``Wakeup``: tells idle workers of this process that jobs may be waiting.

A store calls :meth:`Wakeup.notify` when a job may have become claimable (enqueued, retried,
handed back, or announced by another process through PostgreSQL ``NOTIFY``). Workers hand in
a ``threading.Event`` and sleep on it instead of polling the database in a tight loop; the
poll interval stays as the fallback for what no notification covers (an expired lease).
"""

from __future__ import annotations

import threading
from collections.abc import Callable


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
