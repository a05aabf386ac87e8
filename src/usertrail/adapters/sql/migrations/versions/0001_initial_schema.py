"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "counter_members",
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("distinct_id", sa.Text(), nullable=False),
        sa.Column("set_key", sa.Text(), nullable=False),
        sa.Column("member", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "distinct_id", "set_key", "member"),
    )
    op.create_table(
        "counters",
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("distinct_id", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("first_us", sa.BigInteger(), nullable=False),
        sa.Column("last_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "distinct_id", "key"),
    )
    op.create_table(
        "cursors",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "deliveries",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("trigger", sa.String(length=200), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("anchor_id", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("message", sa.LargeBinary(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.Column("next_us", sa.BigInteger(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_deliveries_due", ["status", "next_us"], unique=False)
        batch_op.create_index("ix_deliveries_firing", ["project_id", "anchor_id"], unique=False)

    op.create_table(
        "events",
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("distinct_id", sa.Text(), nullable=False),
        sa.Column("ts_us", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("session_id", sa.Text(), nullable=True),
        sa.Column("feature", sa.Text(), nullable=True),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "uuid"),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_events_person_time", ["project_id", "distinct_id", "ts_us"], unique=False
        )

    op.create_table(
        "identity_edges",
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("ts_us", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("distinct_id", sa.Text(), nullable=False),
        sa.Column("other_id", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "uuid"),
    )
    with op.batch_alter_table("identity_edges", schema=None) as batch_op:
        batch_op.create_index("ix_edges_distinct", ["project_id", "distinct_id"], unique=False)
        batch_op.create_index("ix_edges_other", ["project_id", "other_id"], unique=False)

    op.create_table(
        "person_updates",
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("distinct_id", sa.Text(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "uuid"),
    )
    with op.batch_alter_table("person_updates", schema=None) as batch_op:
        batch_op.create_index(
            "ix_person_updates_distinct", ["project_id", "distinct_id"], unique=False
        )

    op.create_table(
        "persons",
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("distinct_id", sa.Text(), nullable=False),
        sa.Column("person_key", sa.Text(), nullable=False),
        sa.Column("first_us", sa.BigInteger(), nullable=False),
        sa.Column("last_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "distinct_id"),
    )
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.create_index("ix_persons_key", ["project_id", "person_key"], unique=False)

    op.create_table(
        "projects",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("token", sa.String(length=200), nullable=False),
        sa.Column("api_key", sa.String(length=200), nullable=False),
        sa.Column("webhook_secret", sa.String(length=200), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("api_key"),
        sa.UniqueConstraint("token"),
    )
    op.create_table(
        "raw_events",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("distinct_id", sa.Text(), nullable=False),
        sa.Column("ts_us", sa.BigInteger(), nullable=False),
        sa.Column("received_us", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("project_id", "uuid", name="uq_raw_events_project_uuid"),
    )
    with op.batch_alter_table("raw_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_raw_events_project_distinct", ["project_id", "distinct_id"], unique=False
        )

    op.create_table(
        "sink_records",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("sink", sa.String(length=200), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("distinct_id", sa.Text(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("line", sa.LargeBinary(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project_id", "sink", "uuid", name="uq_sink_records_event"),
    )
    with op.batch_alter_table("sink_records", schema=None) as batch_op:
        batch_op.create_index("ix_sink_records_person", ["project_id", "distinct_id"], unique=False)
        batch_op.create_index("ix_sink_records_status", ["status", "id"], unique=False)

    op.create_table(
        "trigger_firings",
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("trigger", sa.String(length=200), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("anchor_id", sa.Text(), nullable=False),
        sa.Column("event_uuid", sa.String(length=36), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("fired_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "trigger", "threshold", "anchor_id"),
    )
    op.create_table(
        "trigger_hits",
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("trigger", sa.String(length=200), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("distinct_id", sa.Text(), nullable=False),
        sa.Column("ts_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "trigger", "uuid"),
    )
    with op.batch_alter_table("trigger_hits", schema=None) as batch_op:
        batch_op.create_index("ix_trigger_hits_person", ["project_id", "distinct_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("trigger_hits", schema=None) as batch_op:
        batch_op.drop_index("ix_trigger_hits_person")

    op.drop_table("trigger_hits")
    op.drop_table("trigger_firings")
    with op.batch_alter_table("sink_records", schema=None) as batch_op:
        batch_op.drop_index("ix_sink_records_status")
        batch_op.drop_index("ix_sink_records_person")

    op.drop_table("sink_records")
    with op.batch_alter_table("raw_events", schema=None) as batch_op:
        batch_op.drop_index("ix_raw_events_project_distinct")

    op.drop_table("raw_events")
    op.drop_table("projects")
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.drop_index("ix_persons_key")

    op.drop_table("persons")
    with op.batch_alter_table("person_updates", schema=None) as batch_op:
        batch_op.drop_index("ix_person_updates_distinct")

    op.drop_table("person_updates")
    with op.batch_alter_table("identity_edges", schema=None) as batch_op:
        batch_op.drop_index("ix_edges_other")
        batch_op.drop_index("ix_edges_distinct")

    op.drop_table("identity_edges")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_person_time")

    op.drop_table("events")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_firing")
        batch_op.drop_index("ix_deliveries_due")

    op.drop_table("deliveries")
    op.drop_table("cursors")
    op.drop_table("counters")
    op.drop_table("counter_members")
