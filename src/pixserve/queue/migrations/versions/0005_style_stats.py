"""Run-time statistics per style, and the size of each result.

Revision ID: 0005_style_stats
Revises: 0004_partial_indexes
Create Date: 2027-01-15

ETAs used to be averaged from the succeeded jobs still in the ``jobs`` table, so deleting
jobs (a user's "Delete my images", retention) deleted the history with them, and a fresh
table had none. ``style_stats`` keeps, per style, the number of successful runs and an
exponentially weighted mean of their run time, updated in the same transaction as each
success; rows of ``jobs`` come and go without touching it.

``result_width``/``result_height`` record the size of each result, so the API can say it.

Nullable columns and a new table only: plain ``ALTER TABLE … ADD COLUMN`` and ``CREATE
TABLE`` on SQLite and PostgreSQL alike, safe on a live queue.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_style_stats"
down_revision = "0004_partial_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the result size columns; create ``style_stats``."""
    op.add_column("jobs", sa.Column("result_width", sa.Integer(), nullable=True))
    op.add_column("jobs", sa.Column("result_height", sa.Integer(), nullable=True))
    op.create_table(
        "style_stats",
        sa.Column("style", sa.String(100), primary_key=True),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("mean_seconds", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    """Drop ``style_stats`` and the result size columns."""
    op.drop_table("style_stats")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("result_height")
        batch.drop_column("result_width")
