"""Cumulative job metrics per style: queue wait and run time histograms, errors.

Revision ID: 0007_job_metrics
Revises: 0006_intake
Create Date: 2027-02-15

``/metrics`` is answered by every web process, while the jobs finish in worker processes
(other hosts, or the parent of ``serve --web-processes N``), so the histograms live in the
job database: one row per (style, metric, label) with a cumulative count and a running
total, upserted by the worker in the same statement (PostgreSQL) or transaction (SQLite) as
the job's success or failure. Not derived from ``jobs``: deleting jobs leaves them alone.

A new table only: safe on a live queue.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_job_metrics"
down_revision = "0006_intake"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``job_metrics``."""
    op.create_table(
        "job_metrics",
        sa.Column("style", sa.String(100), primary_key=True),
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("label", sa.String(100), primary_key=True),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
    )


def downgrade() -> None:
    """Drop ``job_metrics``."""
    op.drop_table("job_metrics")
