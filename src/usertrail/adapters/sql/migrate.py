"""Schema migrations (Alembic), one history for SQLite and PostgreSQL.

`migrate` brings a database to the newest revision. Several processes may start at once
against one PostgreSQL: an advisory lock makes them take turns, and the later ones find
nothing to do. A database created before migrations existed (tables, no version) is adopted
by stamping it with the first revision, then upgraded from there.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect

MIGRATIONS = Path(__file__).parent / "migrations"
FIRST_REVISION = "0001"
_LOCK = "usertrail:migrate"


def _config(conn: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    return config


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert head is not None
    return head


def migrate(engine: Engine) -> str:
    """Upgrade to the newest revision; returns it."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(
                "SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || ':' || %s, 0))",
                (_LOCK,),
            )
        config = _config(conn)
        names = set(inspect(conn).get_table_names())
        if "raw_events" in names and "alembic_version" not in names:
            command.stamp(config, FIRST_REVISION)
        command.upgrade(config, "head")
    return head_revision()
