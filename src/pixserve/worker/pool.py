"""Workers on threads: the in-process workers of ``pixserve serve`` and ``pixserve worker``.

OpenCV and ONNX Runtime release the GIL while they compute, so threads give real parallelism
for the heavy part of a job while sharing one warm model cache.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from pixserve.worker.housekeeping import Housekeeper
from pixserve.worker.loop import Worker

log = logging.getLogger(__name__)


class WorkerPool:
    """Starts workers on daemon threads and stops them without losing a job."""

    def __init__(
        self,
        make_worker: Callable[[int], Worker],
        size: int,
        *,
        grace_seconds: float = 20.0,
        housekeeper: Housekeeper | None = None,
    ) -> None:
        self.workers = [make_worker(i) for i in range(size)]
        self.grace_seconds = grace_seconds
        self.housekeeper = housekeeper
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start every worker on its own thread (and the housekeeper, if any)."""
        if self.housekeeper is not None:
            self.housekeeper.start()
        for worker in self.workers:
            thread = threading.Thread(target=worker.run, name=worker.worker_id, daemon=True)
            thread.start()
            self._threads.append(thread)

    def request_stop(self) -> None:
        """Ask every worker to stop claiming; running jobs go on."""
        for worker in self.workers:
            worker.request_stop()

    def stop(self, grace_seconds: float | None = None) -> None:
        """Stop claiming, let running jobs finish for a grace period, then hand back the rest.

        A job handed back goes straight to ``queued`` without spending an attempt, so another
        worker (or this one after a restart) runs it again.
        """
        self.request_stop()
        grace = self.grace_seconds if grace_seconds is None else grace_seconds
        deadline = time.monotonic() + grace
        for thread in self._threads:
            thread.join(max(deadline - time.monotonic(), 0.0))
        for worker, thread in zip(self.workers, self._threads, strict=True):
            if thread.is_alive():
                worker.release_current()
        self._threads.clear()
        if self.housekeeper is not None:
            self.housekeeper.stop()

    @property
    def alive(self) -> int:
        """How many worker threads are still running (a stopped worker's thread ends)."""
        return sum(1 for thread in self._threads if thread.is_alive())

    @property
    def busy(self) -> int:
        """How many workers are running a job now."""
        return sum(1 for w in self.workers if w.current is not None)
