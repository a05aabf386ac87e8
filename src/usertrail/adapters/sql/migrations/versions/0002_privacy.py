"""privacy: erased distinct ids, and an event-time index for retention

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deleted_ids",
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("deleted_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "id_hash"),
    )
    op.create_index("ix_events_time", "events", ["ts_us"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_events_time", table_name="events")
    op.drop_table("deleted_ids")
