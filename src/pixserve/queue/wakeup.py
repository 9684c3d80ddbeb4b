"""``Listeners``: thread-safe callbacks told of each value announced; ``Wakeup``: tells idle
workers of this process that jobs may be waiting.

A store calls :meth:`Wakeup.notify` when a job may have become claimable (enqueued, retried,
handed back, or announced by another process through PostgreSQL ``NOTIFY``). Workers hand in
a ``threading.Event`` and sleep on it instead of polling the database in a tight loop; the
poll interval stays as the fallback for what no notification covers (an expired lease).

A store also announces, through ``Listeners[str]``, the id of each job its workers end or
hand back, so the web app of the same process can show it at once (``WatchHub.moved``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class Listeners(Generic[T]):
    """A thread-safe set of callbacks, each called with every value :meth:`announce` gets."""

    def __init__(self) -> None:
        self._callbacks: set[Callable[[T], None]] = set()
        self._lock = threading.Lock()

    def watch(self, callback: Callable[[T], None]) -> Callable[[], None]:
        """Call ``callback`` with every later value; return a function that stops it."""
        with self._lock:
            self._callbacks.add(callback)

        def unwatch() -> None:
            with self._lock:
                self._callbacks.discard(callback)

        return unwatch

    @property
    def count(self) -> int:
        """How many callbacks there are now."""
        with self._lock:
            return len(self._callbacks)

    def announce(self, value: T) -> None:
        """Call every callback with ``value``; a failing one is logged, not raised: what is
        announced has happened already (a job's move is committed)."""
        with self._lock:
            callbacks = list(self._callbacks)
        for callback in callbacks:
            try:
                callback(value)
            except Exception:
                log.exception("a listener failed on %r", value)


class Wakeup:
    """A thread-safe set of events, all set by one :meth:`notify`."""

    def __init__(self) -> None:
        self._events: Listeners[None] = Listeners()

    def watch(self, event: threading.Event) -> Callable[[], None]:
        """Set ``event`` on every later :meth:`notify`; return a function that stops that."""
        return self._events.watch(lambda _: event.set())

    @property
    def watchers(self) -> int:
        """How many events are watched now."""
        return self._events.count

    def notify(self) -> None:
        """Set every watched event."""
        self._events.announce(None)
