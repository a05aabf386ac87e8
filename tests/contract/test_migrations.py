"""Schema migrations: one Alembic history builds exactly the tables the code declares, on
SQLite and PostgreSQL, and processes starting at once migrate once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from usertrail.adapters.sql.engine import make_engine
from usertrail.adapters.sql.migrate import (
    FIRST_REVISION,
    MIGRATIONS,
    current_revision,
    head_revision,
    migrate,
)
from usertrail.adapters.sql.tables import metadata


def test_migrations_build_exactly_the_declared_schema(database_url: str) -> None:
    engine = make_engine(database_url, writer=True)
    try:
        assert migrate(engine) == head_revision()
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
        assert diff == []
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_processes_starting_at_once_migrate_once(database_url: str) -> None:
    engines = [make_engine(database_url, writer=True) for _ in range(4)]
    try:
        with ThreadPoolExecutor(4) as pool:
            revisions = list(pool.map(migrate, engines))
        assert set(revisions) == {head_revision()}
        assert "raw_events" in inspect(engines[0]).get_table_names()
    finally:
        for engine in engines:
            engine.dispose()


def test_a_database_made_before_migrations_is_adopted(database_url: str) -> None:
    engine = make_engine(database_url, writer=True)
    try:
        _schema_before_migrations(engine)
        assert current_revision(engine) is None
        assert migrate(engine) == head_revision()
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def _schema_before_migrations(engine: Engine) -> None:
    """What earlier versions' `metadata.create_all` made: the first revision's tables, with
    no version table (later revisions add to it)."""
    with engine.begin() as conn:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = conn
        command.upgrade(config, FIRST_REVISION)
        conn.execute(text("DROP TABLE alembic_version"))
