"""Delivery and retention: the job's language, preview and housekeeping marks; the outbox.

Revision ID: 0002_delivery
Revises: 0001
Create Date: 2025-02-01

Adds nullable (or defaulted) columns only, so it runs as plain ``ALTER TABLE … ADD COLUMN``
on SQLite and PostgreSQL alike, on a live queue.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_delivery"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the job columns of delivery and retention; create ``deliveries``."""
    op.add_column("jobs", sa.Column("lang", sa.String(8), nullable=False, server_default="en"))
    op.add_column("jobs", sa.Column("preview_key", sa.String(1024), nullable=True))
    op.add_column("jobs", sa.Column("input_deleted_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("jobs", sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "deliveries",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("job_id", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("target", sa.String(2048), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("job_id", "channel", "event", name="uq_deliveries_job_channel_event"),
    )
    op.create_index(
        "ix_deliveries_status_next_attempt_at", "deliveries", ["status", "next_attempt_at"]
    )


def downgrade() -> None:
    """Drop ``deliveries`` and the added job columns."""
    op.drop_index("ix_deliveries_status_next_attempt_at", table_name="deliveries")
    op.drop_table("deliveries")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("notified_at")
        batch.drop_column("input_deleted_at")
        batch.drop_column("preview_key")
        batch.drop_column("lang")
