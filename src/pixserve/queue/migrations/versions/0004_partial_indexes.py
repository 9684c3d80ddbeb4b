"""Index only the jobs each index is for: queued jobs for the claim, running ones for the
lease sweep, finished ones for upkeep.

Revision ID: 0004_partial_indexes
Revises: 0003_claim_order
Create Date: 2026-11-22

Every claim moves a job from ``queued`` to ``running`` and every finish moves it on, and an
update that changes an indexed column writes a new entry into *every* index of the table. With
full indexes on ``status`` that was eight index entries per job; with partial indexes a row
enters an index only while it matches the index's condition, so a claim writes two (primary
key, running) and a finish two (primary key, finished). The queue's indexes also stay as small
as the queue, not as the table's history. On the 16-worker benchmark this was worth about 30%.

A heartbeat changes neither ``status`` nor an indexed column, so it stays a HOT update.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0004_partial_indexes"
down_revision = "0003_claim_order"
branch_labels = None
depends_on = None

_QUEUED = sa.text("status = 'queued'")
_RUNNING = sa.text("status = 'running'")
_FINISHED = sa.text("finished_at IS NOT NULL")


def _where(condition: sa.TextClause) -> dict[str, Any]:
    return {"postgresql_where": condition, "sqlite_where": condition}


def upgrade() -> None:
    """Replace the full status indexes by partial ones."""
    op.drop_index("ix_jobs_queue_order", table_name="jobs")
    op.drop_index("ix_jobs_style_queue_order", table_name="jobs")
    op.drop_index("ix_jobs_status_finished_at", table_name="jobs")
    op.create_index("ix_jobs_queue_order", "jobs", ["created_at", "id"], **_where(_QUEUED))
    op.create_index(
        "ix_jobs_style_queue_order", "jobs", ["style", "created_at", "id"], **_where(_QUEUED)
    )
    op.create_index("ix_jobs_running", "jobs", ["started_at"], **_where(_RUNNING))
    op.create_index(
        "ix_jobs_status_finished_at", "jobs", ["status", "finished_at"], **_where(_FINISHED)
    )


def downgrade() -> None:
    """Back to the full indexes of 0003."""
    op.drop_index("ix_jobs_status_finished_at", table_name="jobs")
    op.drop_index("ix_jobs_running", table_name="jobs")
    op.drop_index("ix_jobs_style_queue_order", table_name="jobs")
    op.drop_index("ix_jobs_queue_order", table_name="jobs")
    op.create_index("ix_jobs_status_finished_at", "jobs", ["status", "finished_at"])
    op.create_index("ix_jobs_style_queue_order", "jobs", ["status", "style", "created_at", "id"])
    op.create_index("ix_jobs_queue_order", "jobs", ["status", "created_at", "id"])
