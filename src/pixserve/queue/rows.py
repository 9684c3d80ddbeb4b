"""Between ``Job`` objects and rows of the ``jobs`` table."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from pixserve.domain.job import Job, JobStatus, NewJob


def job_from_row(row: Mapping[Any, Any]) -> Job:
    """Build a :class:`Job` from a ``jobs`` row (column name → value)."""
    return Job(
        id=row["id"],
        style=row["style"],
        status=JobStatus(row["status"]),
        input_key=row["input_key"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        crop=row["crop"],
        params=dict(row["params"] or {}),
        email=row["email"],
        webhook_url=row["webhook_url"],
        result_key=row["result_key"],
        result_content_type=row["result_content_type"],
        progress=float(row["progress"]),
        error_code=row["error_code"],
        error_message=row["error_message"],
        attempts=int(row["attempts"]),
        max_attempts=int(row["max_attempts"]),
        worker_id=row["worker_id"],
        lease_expires_at=row["lease_expires_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        lang=row["lang"],
        preview_key=row["preview_key"],
        input_deleted_at=row["input_deleted_at"],
        notified_at=row["notified_at"],
        result_width=row["result_width"],
        result_height=row["result_height"],
    )


def new_job_values(new: NewJob, now: datetime) -> dict[str, Any]:
    """The column values of the queued row that ``new`` becomes at ``now``."""
    return {
        "id": new.id,
        "style": new.style,
        "status": JobStatus.QUEUED.value,
        "input_key": new.input_key,
        "crop": new.crop,
        "params": dict(new.params),
        "email": new.email,
        "webhook_url": new.webhook_url,
        "result_key": None,
        "result_content_type": None,
        "progress": 0.0,
        "error_code": None,
        "error_message": None,
        "attempts": 0,
        "max_attempts": new.max_attempts,
        "worker_id": None,
        "lease_expires_at": None,
        "created_at": now,
        "updated_at": now,
        "started_at": None,
        "finished_at": None,
        "lang": new.lang,
        "preview_key": None,
        "input_deleted_at": None,
        "notified_at": None,
        "result_width": None,
        "result_height": None,
    }


def tally_ahead(queue: Iterable[tuple[str, str]], wanted: set[str]) -> dict[str, dict[str, int]]:
    """For each id of ``wanted`` met in ``queue`` (queued ``(id, style)`` pairs in claim
    order), the jobs before it per style; stops after the last wanted id."""
    seen: dict[str, int] = {}
    found: dict[str, dict[str, int]] = {}
    for job_id, style in queue:
        if job_id in wanted:
            found[job_id] = dict(seen)
            if len(found) == len(wanted):
                break
        seen[style] = seen.get(style, 0) + 1
    return found
