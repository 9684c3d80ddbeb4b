"""The ``jobs`` and ``deliveries`` tables (SQLAlchemy Core).

Migrations in ``migrations/`` create them; keep in step.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from pixserve.queue.columns import CropText, UtcDateTime

metadata = MetaData()

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
    # The claim reads the oldest queued jobs, overall and within a style, in exactly this
    # order (migration 0003); position counts the queued ones ahead.
    Index("ix_jobs_queue_order", "status", "created_at", "id"),
    Index("ix_jobs_style_queue_order", "status", "style", "created_at", "id"),
    # average_run_seconds reads the latest succeeded jobs.
    Index("ix_jobs_status_finished_at", "status", "finished_at"),
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
