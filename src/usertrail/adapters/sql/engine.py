"""Engines: SQLite in WAL mode with fsync on commit (durable before the 2xx), or PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from usertrail.adapters.sql.tables import metadata


def make_engine(url: str, *, writer: bool = False) -> Engine:
    """An engine; on SQLite, `writer=True` takes the write lock at BEGIN (no upgrade deadlocks)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    # A pool at least as large as the reader threads: a new SQLite connection re-reads the
    # schema on its first query, and churned overflow connections made that every request.
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        pool_size=16,
        max_overflow=16,
    )
    event.listen(engine, "connect", _sqlite_pragmas)
    begin_sql = "BEGIN IMMEDIATE" if writer else "BEGIN"

    # pysqlite's own transaction handling breaks SAVEPOINT; SQLAlchemy's documented recipe
    # is to switch it off and emit BEGIN ourselves.
    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql(begin_sql)

    return engine


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    # FULL: the WAL is fsynced at every commit, so an acknowledged event survives power loss,
    # not only a process crash. Group commit keeps this affordable.
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def create_schema(engine: Engine) -> None:
    metadata.create_all(engine)
