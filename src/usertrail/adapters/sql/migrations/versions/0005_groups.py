"""groups: `$groupidentify` property updates and group memberships

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "group_updates",
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("group_type", sa.Text(), nullable=False),
        sa.Column("group_key", sa.Text(), nullable=False),
        sa.Column("distinct_id", sa.Text(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "uuid"),
    )
    op.create_index(
        "ix_group_updates_group",
        "group_updates",
        ["project_id", "group_type", "group_key"],
        unique=False,
    )
    op.create_table(
        "group_members",
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("group_type", sa.Text(), nullable=False),
        sa.Column("group_key", sa.Text(), nullable=False),
        sa.Column("distinct_id", sa.Text(), nullable=False),
        sa.Column("first_us", sa.BigInteger(), nullable=False),
        sa.Column("last_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "group_type", "group_key", "distinct_id"),
    )
    op.create_index(
        "ix_group_members_distinct",
        "group_members",
        ["project_id", "distinct_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_group_members_distinct", table_name="group_members")
    op.drop_table("group_members")
    op.drop_index("ix_group_updates_group", table_name="group_updates")
    op.drop_table("group_updates")
