"""The job queue: the jobs table, claims with leases, and ``SqlJobStore`` behind ``JobStore``."""

from pixserve.queue.claim import LEASE_EXPIRED
from pixserve.queue.clock import Clock, utc_now
from pixserve.queue.factory import open_job_store
from pixserve.queue.migrate import current_revision, head_revision, upgrade
from pixserve.queue.outbox import Outbox
from pixserve.queue.outbox_sql import SqlOutbox, open_outbox
from pixserve.queue.sql import SqlJobStore
from pixserve.queue.store import JobStore

__all__ = [
    "LEASE_EXPIRED",
    "Clock",
    "JobStore",
    "Outbox",
    "SqlJobStore",
    "SqlOutbox",
    "current_revision",
    "head_revision",
    "open_job_store",
    "open_outbox",
    "upgrade",
    "utc_now",
]
