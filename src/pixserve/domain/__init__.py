"""Plain data: jobs, their status machine, crops, deliveries."""

from pixserve.domain.delivery import (
    Channel,
    Delivery,
    DeliveryStatus,
    JobEvent,
    NewDelivery,
    new_delivery_id,
)
from pixserve.domain.job import ACTIVE_STATUSES, Crop, Job, JobStatus, NewJob, new_job_id

__all__ = [
    "ACTIVE_STATUSES",
    "Channel",
    "Crop",
    "Delivery",
    "DeliveryStatus",
    "Job",
    "JobEvent",
    "JobStatus",
    "NewDelivery",
    "NewJob",
    "new_delivery_id",
    "new_job_id",
]
