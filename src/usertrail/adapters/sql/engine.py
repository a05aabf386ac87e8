"""Engines: SQLite in WAL mode with fsync on commit (durable before the 2xx), or PostgreSQL."""

from __future__ import annotations

import sqlite3
import time
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from usertrail.adapters.sql.migrate import migrate

# SQLite's own default: a commit that leaves the WAL longer than this many pages copies it
# into the database file (a checkpoint) before it returns.
AUTOCHECKPOINT_PAGES = 1000


def make_engine(
    url: str, *, writer: bool = False, autocheckpoint: int = AUTOCHECKPOINT_PAGES
) -> Engine:
    """An engine; on SQLite, `writer=True` takes the write lock at BEGIN (no upgrade deadlocks),
    and a commit checkpoints past `autocheckpoint` pages of WAL."""
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
    event.listen(engine, "connect", partial(_sqlite_pragmas, autocheckpoint=autocheckpoint))

    # pysqlite's own transaction handling breaks SAVEPOINT; SQLAlchemy's documented recipe
    # is to switch it off and emit BEGIN ourselves.
    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        if writer:
            try:
                begin_immediate(conn.connection.driver_connection)
            except sqlite3.OperationalError as exc:  # as exec_driver_sql would raise it
                raise OperationalError("BEGIN IMMEDIATE", None, exc) from exc
        else:
            conn.exec_driver_sql("BEGIN")

    return engine


BUSY_TIMEOUT_MS = 30_000
BUSY_RETRY_S = 0.0001
BUSY_RETRY_MAX_S = 0.001


def begin_immediate(dbapi_conn: sqlite3.Connection) -> None:
    """BEGIN IMMEDIATE, tried again every 0.1 ms while another process holds the write lock.

    SQLite's own busy handler sleeps 1, 2, 5, 10, 15... ms between tries, so with the
    processor writing in a process of its own a capture commit that met a 1 ms transaction
    there waited 3 ms, and 20 ms at p99. In WAL mode BEGIN IMMEDIATE is where a writer
    waits: inside the transaction nothing else does.

    A wait that has already lasted is behind a long transaction (a processor slice of
    thousands of events holds the lock for a few hundred ms), so the pause grows with the
    wait, to a tenth of it and at most 1 ms: all-in-one `serve` under 50-event batches
    retried 4,839 times in 6 s at a steady 0.1 ms, 507 times with this (strace -c), each try
    a GIL round trip and lock syscalls taken from the processor's share of the cores."""
    dbapi_conn.execute("PRAGMA busy_timeout=0")
    try:
        started = time.monotonic()
        while True:
            try:
                dbapi_conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                # Any kind of busy: the extended codes too (SQLITE_BUSY_RECOVERY, 261, while
                # another connection recovers the WAL of a database just opened).
                busy = getattr(exc, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_BUSY
                waited = time.monotonic() - started
                if not busy or waited > BUSY_TIMEOUT_MS / 1000:
                    raise
                time.sleep(min(BUSY_RETRY_MAX_S, max(BUSY_RETRY_S, waited / 10)))
    finally:
        dbapi_conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any, *, autocheckpoint: int) -> None:
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    _switch_to_wal(cur)
    # FULL: the WAL is fsynced at every commit, so an acknowledged event survives power loss,
    # not only a process crash. Group commit keeps this affordable.
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA foreign_keys=ON")
    # An erased person's rows must not stay readable in freed pages of the file: SQLite
    # zeroes what it deletes (privacy.checkpoint then moves the zeroed pages over the WAL).
    cur.execute("PRAGMA secure_delete=ON")
    cur.execute(f"PRAGMA wal_autocheckpoint={int(autocheckpoint)}")
    cur.close()


def _switch_to_wal(cur: Any, timeout_s: float = 30.0) -> None:
    """WAL mode persists in the file; switching a new file to it needs it to itself, and
    SQLite answers "locked" at once (no busy wait) when another process is doing the same:
    two processes starting together on a fresh data dir. Retry, bounded."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def create_schema(engine: Engine) -> None:
    """Bring the schema to the newest migration (a no-op when it is there already)."""
    migrate(engine)


def checkpoint(engine: Engine) -> None:
    """Copy the WAL into the database file and truncate it: after an erasure, the WAL still
    holds the deleted rows' old pages until a checkpoint overwrites them. No-op on PostgreSQL.
    On a raw connection: SQLAlchemy would open a transaction, which a checkpoint waits for."""
    if engine.dialect.name != "sqlite":
        return
    raw = engine.raw_connection()
    try:
        raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()  # type: ignore[union-attr]
    finally:
        raw.close()
