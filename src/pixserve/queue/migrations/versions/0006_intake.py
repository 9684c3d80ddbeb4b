"""The intake switch (operator pause) and jobs accepted per hour (the budget guard).

Revision ID: 0006_intake
Revises: 0005_style_stats
Create Date: 2027-02-01

``intake_switch`` holds one row (id 1) that every web node reads, so an operator's pause
reaches all of them. ``intake_counts`` counts the jobs accepted in each UTC hour (hours since
the epoch): the budget guard sums it, and it is not derived from ``jobs``, so "Delete my
images" and retention do not hand budget back.

New tables only: safe on a live queue.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_intake"
down_revision = "0005_style_stats"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``intake_switch`` (open) and ``intake_counts``."""
    op.create_table(
        "intake_switch",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.execute(
        "INSERT INTO intake_switch (id, paused, note, updated_at) "
        "VALUES (1, false, NULL, CURRENT_TIMESTAMP)"
    )
    op.create_table(
        "intake_counts",
        sa.Column("hour", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("jobs", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    """Drop both tables."""
    op.drop_table("intake_counts")
    op.drop_table("intake_switch")
