"""The ``jobs`` table (SQLAlchemy Core). Migrations in ``migrations/`` create it; keep in step."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Float, Index, Integer, MetaData, String, Table, Text

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
    # The claim reads the oldest queued jobs; position counts the queued ones ahead.
    Index("ix_jobs_status_created_at", "status", "created_at"),
    # average_run_seconds reads the latest succeeded jobs.
    Index("ix_jobs_status_finished_at", "status", "finished_at"),
)
