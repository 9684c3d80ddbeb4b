"""Workers: claim jobs, keep their leases, run the pipeline, store results, stop gracefully."""

from pixserve.worker.heartbeat import Heartbeat
from pixserve.worker.housekeeping import Housekeeper
from pixserve.worker.loop import PERMANENT_ERRORS, JobLost, Worker, new_worker_id
from pixserve.worker.pool import WorkerPool

__all__ = [
    "PERMANENT_ERRORS",
    "Heartbeat",
    "Housekeeper",
    "JobLost",
    "Worker",
    "WorkerPool",
    "new_worker_id",
]
