"""Schema migrations: one Alembic history builds exactly the tables the code declares, on
SQLite and PostgreSQL, and processes starting at once migrate once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

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


def test_writers_opening_a_new_sqlite_file_at_once_wait_out_every_kind_of_busy(
    tmp_path: Path,
) -> None:
    """While one connection recovers the WAL of a file just made, another's BEGIN IMMEDIATE
    gets SQLITE_BUSY_RECOVERY (261), not plain SQLITE_BUSY: it must wait as for any busy.
    Only some rounds meet it (3 of 150 did before the fix), so many rounds are run."""
    for round_ in range(100):
        url = f"sqlite:///{tmp_path / f'fresh-{round_}.db'}"
        engines = [make_engine(url, writer=True) for _ in range(4)]
        try:
            with ThreadPoolExecutor(4) as pool:
                assert set(pool.map(migrate, engines)) == {head_revision()}
        finally:
            for engine in engines:
                engine.dispose()
