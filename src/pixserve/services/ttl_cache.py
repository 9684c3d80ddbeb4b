"""``TtlCache``: values kept for a short while, so a crowd of readers shares one load.

A thousand people watching their jobs all need the same few inputs (per-style run times,
the running jobs, how many workers are active). Those change a few times a second at most,
so each node reads them once per ``ttl`` and every status call in between shares that read.

Thread-safe: status calls run in a thread pool. Each key loads under its own lock, so when
an entry runs out, one caller reloads it while the others wait for that load instead of all
querying the database at once (no stampede). The clock is injectable for tests.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class TtlCache(Generic[T]):
    """Values by key, each loaded by its caller's function and kept ``ttl`` seconds.

    ``ttl <= 0`` keeps nothing: every call loads (the behaviour before caching, which unit
    tests of fresh reads rely on). ``clock`` returns monotonic seconds.
    """

    def __init__(self, ttl: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._values: dict[Hashable, tuple[float, T]] = {}
        self._locks: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: Hashable, load: Callable[[], T]) -> T:
        """The value under ``key``, loaded with ``load()`` if absent or older than ``ttl``.

        An exception from ``load`` propagates and nothing is cached.
        """
        if self.ttl <= 0:
            return load()
        fresh = self._fresh(key)
        if fresh is not None:
            return fresh[1]
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            fresh = self._fresh(key)  # another caller may have loaded it while we waited
            if fresh is not None:
                return fresh[1]
            value = load()
            self._values[key] = (self._clock() + self.ttl, value)
            return value

    def _fresh(self, key: Hashable) -> tuple[float, T] | None:
        entry = self._values.get(key)
        if entry is None or entry[0] <= self._clock():
            return None
        return entry

    def clear(self) -> None:
        """Forget every value (the next ``get`` of each key loads)."""
        with self._guard:
            self._values.clear()
