"""Plain data: jobs, their status machine, crops."""

from pixserve.domain.job import ACTIVE_STATUSES, Crop, Job, JobStatus, NewJob, new_job_id

__all__ = ["ACTIVE_STATUSES", "Crop", "Job", "JobStatus", "NewJob", "new_job_id"]
