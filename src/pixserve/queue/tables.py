"""The ``jobs``, ``deliveries`` and ``style_stats`` tables (SQLAlchemy Core).

Migrations in ``migrations/`` create them; keep in step.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TextClause,
    UniqueConstraint,
    text,
)

from pixserve.queue.columns import CropText, UtcDateTime

metadata = MetaData()

_QUEUED_ROWS = text("status = 'queued'")
_FINISHED_ROWS = text("finished_at IS NOT NULL")


def _where(condition: TextClause) -> dict[str, Any]:
    """A partial index's condition, on both databases."""
    return {"postgresql_where": condition, "sqlite_where": condition}


jobs = Table(
    "jobs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("style", String(100), nullable=False),
    Column("status", String(16), nullable=False),
    Column("input_key", String(1024), nullable=False),
    Column("crop", CropText(), nullable=True),
    Column("params", JSON(), nullable=False),
    Column("email", String(320), nullable=True),
    Column("webhook_url", String(2048), nullable=True),
    Column("result_key", String(1024), nullable=True),
    Column("result_content_type", String(100), nullable=True),
    Column("progress", Float(), nullable=False, default=0.0),
    Column("error_code", String(64), nullable=True),
    Column("error_message", Text(), nullable=True),
    Column("attempts", Integer(), nullable=False, default=0),
    Column("max_attempts", Integer(), nullable=False),
    Column("worker_id", String(200), nullable=True),
    Column("lease_expires_at", UtcDateTime(), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("started_at", UtcDateTime(), nullable=True),
    Column("finished_at", UtcDateTime(), nullable=True),
    # Delivery and retention (migration 0002).
    Column("lang", String(8), nullable=False, server_default="en"),
    Column("preview_key", String(1024), nullable=True),
    Column("input_deleted_at", UtcDateTime(), nullable=True),
    Column("notified_at", UtcDateTime(), nullable=True),
    # The result's size (migration 0005).
    Column("result_width", Integer(), nullable=True),
    Column("result_height", Integer(), nullable=True),
    # Partial indexes (migration 0004): a row is in an index only while it matches its
    # condition, so moving a job on writes few index entries. The claim reads the oldest queued
    # jobs, overall and within a style, in exactly this order; position counts the queued ones
    # ahead. Queries must spell the status as a literal (``claim.sql_text``) for a planner to
    # match these conditions.
    Index("ix_jobs_queue_order", "created_at", "id", **_where(_QUEUED_ROWS)),
    Index("ix_jobs_style_queue_order", "style", "created_at", "id", **_where(_QUEUED_ROWS)),
    # The lease sweep and active_workers look at the running jobs, a handful.
    Index("ix_jobs_running", "started_at", **_where(text("status = 'running'"))),
    # Upkeep reads finished jobs by age.
    Index("ix_jobs_status_finished_at", "status", "finished_at", **_where(_FINISHED_ROWS)),
)

#: The outbox: e-mails and webhook calls still to send, and what became of the sent ones.
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("job_id", String(32), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("event", String(32), nullable=False),
    Column("target", String(2048), nullable=False),
    Column("payload", JSON(), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer(), nullable=False),
    Column("max_attempts", Integer(), nullable=False),
    Column("next_attempt_at", UtcDateTime(), nullable=False),
    Column("lease_expires_at", UtcDateTime(), nullable=True),
    Column("last_error", Text(), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("sent_at", UtcDateTime(), nullable=True),
    # One message per job, channel and event, however often a worker retries queueing it.
    UniqueConstraint("job_id", "channel", "event", name="uq_deliveries_job_channel_event"),
    # Workers pick the due ones.
    Index("ix_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
)

#: Per style: successful runs and the exponentially weighted mean of their run time
#: (``queue/run_stats.py``), for ETAs. Kept apart from ``jobs`` so that deleting jobs keeps
#: the history (migration 0005).
style_stats = Table(
    "style_stats",
    metadata,
    Column("style", String(100), primary_key=True),
    Column("runs", Integer(), nullable=False),
    Column("mean_seconds", Float(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

#: The operator's intake switch, one row (id 1) that every node reads (migration 0006).
intake_switch = Table(
    "intake_switch",
    metadata,
    Column("id", Integer(), primary_key=True),
    Column("paused", Boolean(), nullable=False),
    Column("note", Text(), nullable=True),
    Column("updated_at", UtcDateTime(), nullable=False),
)

#: Jobs accepted per UTC hour (hours since the epoch), for the budget guard and the operator
#: stats; kept apart from ``jobs`` so that deleting jobs does not give budget back (0006).
intake_counts = Table(
    "intake_counts",
    metadata,
    Column("hour", Integer(), primary_key=True, autoincrement=False),
    Column("jobs", Integer(), nullable=False),
)

#: Cumulative job metrics per style (``queue/job_metrics.py``, migration 0007): histogram
#: buckets of queue wait and run time (``label`` is the bucket's ``le``) and error counts
#: (``label`` is the error code). Counters only go up; deleting jobs leaves them alone.
job_metrics = Table(
    "job_metrics",
    metadata,
    Column("style", String(100), primary_key=True),
    Column("name", String(40), primary_key=True),
    Column("label", String(100), primary_key=True),
    Column("count", BigInteger(), nullable=False),
    Column("total", Float(), nullable=False),
)
