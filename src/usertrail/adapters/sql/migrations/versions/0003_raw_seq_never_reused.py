"""raw_events.seq is never handed out twice, also after a deletion (SQLite AUTOINCREMENT)

Without AUTOINCREMENT, SQLite gives a new row the largest rowid plus one, so deleting the
newest raw event (a privacy erasure, retention) would give its seq to the next event: at or
below the processor's cursor, never processed. PostgreSQL sequences never reuse a value.
Earlier builds worked around it by emptying such a row into a "husk"; those rows go here.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_HUSK_PROJECT = "\x00husk"


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    # The copy keeps every seq, so AUTOINCREMENT starts above the largest one (husks included).
    with op.batch_alter_table(
        "raw_events", recreate="always", table_kwargs={"sqlite_autoincrement": True}
    ):
        pass
    op.execute(
        sa.text("DELETE FROM raw_events WHERE project_id = :husk").bindparams(husk=_HUSK_PROJECT)
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "raw_events", recreate="always", table_kwargs={"sqlite_autoincrement": False}
    ):
        pass
