"""Plain data: jobs, their status machine, crops, deliveries, images to render."""

from pixserve.domain.delivery import (
    Channel,
    Delivery,
    DeliveryStatus,
    JobEvent,
    NewDelivery,
    new_delivery_id,
)
from pixserve.domain.job import ACTIVE_STATUSES, Crop, Job, JobStatus, NewJob, new_job_id
from pixserve.domain.render import RenderItem

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
    "RenderItem",
    "new_delivery_id",
    "new_job_id",
]
