"""The housekeeper: a side thread of every worker process that sends and deletes.

It sends due deliveries (e-mails and webhooks from the outbox), queues the news of finished
jobs whose finish did not (they finished before news went in with the finish, or in a worker
without a delivery service), and runs the retention cleanup every
``cleanup_interval_seconds``. Several processes may run one each: deliveries are claimed
with a lease, and every cleanup step is idempotent.
"""

from __future__ import annotations

import logging
import threading
import time

from pixserve.services.delivery import DeliveryService
from pixserve.services.retention import RetentionService

log = logging.getLogger(__name__)

#: Deliveries one pass takes; a full pass is followed by another at once.
SEND_BATCH = 10
#: How often the sweep looks for finished jobs whose news was never queued.
SWEEP_SECONDS = 10.0


class Housekeeper:
    """Runs :meth:`run_once` every ``poll_seconds`` on a daemon thread until stopped."""

    def __init__(
        self,
        worker_id: str,
        *,
        deliveries: DeliveryService | None,
        retention: RetentionService | None,
        poll_seconds: float = 0.5,
        cleanup_interval: float = 60.0,
    ) -> None:
        self.worker_id = worker_id
        self.deliveries = deliveries
        self.retention = retention
        self.poll_seconds = poll_seconds
        self.cleanup_interval = cleanup_interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_sweep = 0.0
        self._next_cleanup = 0.0

    def start(self) -> None:
        """Start the side thread."""
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, name=f"housekeeper-{self.worker_id}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the current pass; what is still queued is sent by the next process."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def run_once(self, now: float | None = None) -> int:
        """One pass: send what is due, sweep and clean up when their time has come.

        Returns how many deliveries were tried. Errors are logged, never raised: the next
        pass tries again.
        """
        now = time.monotonic() if now is None else now
        tried = 0
        try:
            if self.deliveries is not None:
                if now >= self._next_sweep:
                    self._next_sweep = now + SWEEP_SECONDS
                    self.deliveries.sweep()
                tried = self.deliveries.send_due(self.worker_id, limit=SEND_BATCH)
            if self.retention is not None and now >= self._next_cleanup:
                self._next_cleanup = now + self.cleanup_interval
                self.retention.run_once()
        except Exception:
            log.exception("housekeeping pass failed; trying again shortly")
        return tried

    def _run(self) -> None:
        while not self._stop.is_set():
            tried = self.run_once()
            if tried < SEND_BATCH:
                self._stop.wait(self.poll_seconds)
