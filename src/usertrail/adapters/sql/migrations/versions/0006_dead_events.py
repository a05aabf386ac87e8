"""dead_events: raw events the embedded processor dead-lettered (services.processor)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dead_events",
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("failed_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "uuid"),
    )


def downgrade() -> None:
    op.drop_table("dead_events")
