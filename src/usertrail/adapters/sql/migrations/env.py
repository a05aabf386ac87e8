"""Alembic environment: migrations run on the connection usertrail hands over (see migrate.py)."""

from __future__ import annotations

from alembic import context

from usertrail.adapters.sql.tables import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite alters tables by copying them: Alembic's batch mode does that for us.
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
