"""Indexes in the claim's exact order, so a claim reads one index entry instead of sorting.

Revision ID: 0003_claim_order
Revises: 0002_delivery
Create Date: 2026-11-22

The claim orders queued jobs by ``(created_at, id)``, once overall (the oldest style) and
once within a style. With only ``(status, created_at)`` indexed, PostgreSQL sorted every
queued row on every claim: 6 ms per claim with 3,000 jobs waiting, growing with the queue.
These two indexes match both orders, so ``LIMIT n`` stops after n entries.
"""

from __future__ import annotations

from alembic import op

revision = "0003_claim_order"
down_revision = "0002_delivery"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Replace ``(status, created_at)`` by the claim's two orders."""
    op.create_index("ix_jobs_queue_order", "jobs", ["status", "created_at", "id"])
    op.create_index("ix_jobs_style_queue_order", "jobs", ["status", "style", "created_at", "id"])
    op.drop_index("ix_jobs_status_created_at", table_name="jobs")


def downgrade() -> None:
    """Back to the single ``(status, created_at)`` index."""
    op.create_index("ix_jobs_status_created_at", "jobs", ["status", "created_at"])
    op.drop_index("ix_jobs_style_queue_order", table_name="jobs")
    op.drop_index("ix_jobs_queue_order", table_name="jobs")
