"""The few places SQLite and PostgreSQL SQL differ, in one module."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import chain
from typing import Any

from sqlalchemy import Connection, Table, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement

from usertrail.adapters.sql.key_chunks import EventKey, project_chunks
from usertrail.adapters.sql.pg_bulk import Columns, Row, bulk_insert, unnest_insert
from usertrail.adapters.sql.tables import counter_members, counters, events, persons, raw_events


def insert_for(conn: Connection, table: Table) -> Any:
    """An INSERT that supports ON CONFLICT for the connection's dialect."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def least(conn: Connection, a: Any, b: Any) -> ColumnElement[Any]:
    return func.least(a, b) if conn.dialect.name == "postgresql" else func.min(a, b)


def greatest(conn: Connection, a: Any, b: Any) -> ColumnElement[Any]:
    return func.greatest(a, b) if conn.dialect.name == "postgresql" else func.max(a, b)


# Bulk writes of the processor's hottest tables. SQLite: multi-row VALUES statements straight
# to the driver (see _values_insert). PostgreSQL: binary COPY into a staging table and one
# INSERT … SELECT per table and slice (pg_bulk); executemany there costs a parsed statement
# per row (measured: the counters upsert alone was a third of a worker's time).


def _columns(table: Table, *names: str) -> Columns:
    """These columns with their PostgreSQL types, from the table's own declaration."""
    pg = postgresql.dialect()  # type: ignore[no-untyped-call]  # SQLAlchemy leaves it untyped
    return tuple((name, table.c[name].type.compile(dialect=pg)) for name in names)


_COUNTERS = _columns(counters, "project_id", "distinct_id", "key", "count", "first_us", "last_us")
_MEMBERS = _columns(counter_members, "project_id", "distinct_id", "set_key", "member")
_PERSONS = _columns(persons, "project_id", "distinct_id", "person_key", "first_us", "last_us")
_EVENTS = _columns(
    events,
    "project_id",
    "uuid",
    "distinct_id",
    "ts_us",
    "name",
    "kind",
    "session_id",
    "feature",
    "data",
)
RAW_COLUMNS = (
    "project_id",
    "uuid",
    "event",
    "distinct_id",
    "ts_us",
    "received_us",
    "source",
    "ip",
    "body",
)
_RAW = _columns(raw_events, *RAW_COLUMNS)


def insert_raw_rows(conn: Connection, rows: Sequence[Row]) -> list[Any]:
    """PostgreSQL: raw events in RAW_COLUMNS order, skipping (project, uuid) already stored;
    returns one row per event inserted."""
    tail = "ON CONFLICT (project_id, uuid) DO NOTHING RETURNING seq"
    return list(unnest_insert(conn, raw_events, _RAW, rows, tail))


RAW_LOG_LOCK = "usertrail:raw-log"  # a ':' no project id holds (model.project), so no clash


def lock_raw_log(conn: Connection) -> None:
    """PostgreSQL: one raw-log append transaction at a time, across processes, from before
    it draws its first seq until it commits, so seq order is commit order.

    A seq is drawn at INSERT, before the commit; two processes' transactions could otherwise
    commit out of seq order, and a reader that follows the log by seq (LogFeed) would pass
    the lower seqs before they became visible and never read them. With the lock, a reader
    that sees seq s committed knows every lower seq is committed or will never exist (a
    skipped duplicate's seq, a rolled-back append). Taken before the first insert of the
    transaction; the commit (or rollback) releases it. Asked again in the same transaction
    (every append of a commit group asks) it costs no round trip: the connection remembers
    the transaction that holds it (the object itself, so a later one is never taken for it).
    SQLite needs none: its writer holds the database lock from BEGIN IMMEDIATE.
    """
    if not _pg(conn):
        return
    transaction = conn.get_transaction()
    if transaction is not None and conn.info.get(RAW_LOG_LOCK) is transaction:
        return
    conn.exec_driver_sql(
        "SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || ':' || %s, 0))",
        (RAW_LOG_LOCK,),
    )
    conn.info[RAW_LOG_LOCK] = transaction


def add_counters(conn: Connection, rows: Sequence[Row]) -> None:
    """Add to per-person counters; rows are (project, distinct id, key, count, first, last),
    at most one per key."""
    low, high = ("LEAST", "GREATEST") if _pg(conn) else ("MIN", "MAX")
    tail = (
        "ON CONFLICT (project_id, distinct_id, key) DO UPDATE SET "
        "count = counters.count + excluded.count, "
        f"first_us = {low}(counters.first_us, excluded.first_us), "
        f"last_us = {high}(counters.last_us, excluded.last_us)"
    )
    _bulk_insert(conn, counters, _COUNTERS, rows, tail, "project_id, distinct_id, key")


def add_members(conn: Connection, rows: Sequence[Row]) -> None:
    """Join distinct-count sets; rows are (project, distinct id, set, member)."""
    order = "project_id, distinct_id, set_key, member"
    _bulk_insert(conn, counter_members, _MEMBERS, rows, "ON CONFLICT DO NOTHING", order)


def upsert_persons(conn: Connection, rows: Sequence[Row]) -> None:
    """New ids start as their own person; known ids only widen their first/last seen.
    Rows are (project, distinct id, person key, first, last), at most one per id."""
    low, high = ("LEAST", "GREATEST") if _pg(conn) else ("MIN", "MAX")
    tail = (
        "ON CONFLICT (project_id, distinct_id) DO UPDATE SET "
        f"first_us = {low}(persons.first_us, excluded.first_us), "
        f"last_us = {high}(persons.last_us, excluded.last_us)"
    )
    _bulk_insert(conn, persons, _PERSONS, rows, tail, "project_id, distinct_id")


def insert_events(conn: Connection, rows: Sequence[Row]) -> set[tuple[str, str]]:
    """Insert derived events, skipping those stored already; returns the (project, uuid) of
    those skipped: settling counts them no more (core.settle, rule 2).

    PostgreSQL: the insert's RETURNING tells which went in, so this one statement replaces a
    SELECT of the slice's keys before it (an index probe per event, and psycopg quoting a
    10,000-element array in Python on the writer thread: measured, see the commit)."""
    if not rows:
        return set()
    keys = {(row[0], row[1]) for row in rows}
    if not _pg(conn):
        stored = _sqlite_stored(conn, keys)
        _values_insert(conn, events, _EVENTS, rows, "ON CONFLICT DO NOTHING")
        return stored
    tail = "ON CONFLICT DO NOTHING RETURNING project_id, uuid"
    inserted = bulk_insert(conn, events, _EVENTS, rows, tail, "project_id, uuid")
    return keys.difference((row[0], row[1]) for row in inserted)


def _sqlite_stored(conn: Connection, keys: set[EventKey]) -> set[EventKey]:
    """Which of these (project, uuid) are stored as derived events."""
    stored: set[EventKey] = set()
    for project_id, chunk in project_chunks(keys, _SQLITE_MAX_VARIABLES - 1):  # + project
        sql = (
            f"SELECT uuid FROM {events.name} WHERE project_id = ? "
            f"AND uuid IN ({', '.join('?' * len(chunk))})"
        )
        found = conn.exec_driver_sql(sql, (project_id, *chunk))
        stored.update((project_id, r[0]) for r in found)
    return stored


def _bulk_insert(
    conn: Connection, table: Table, columns: Columns, rows: Sequence[Row], tail: str, order: str
) -> None:
    if not rows:
        return
    if _pg(conn):
        bulk_insert(conn, table, columns, rows, tail, order)
    else:
        _values_insert(conn, table, columns, rows, tail)


_SQLITE_MAX_VARIABLES = 32_766  # SQLite 3.32 and newer


def _values_insert(
    conn: Connection, table: Table, columns: Columns, rows: Sequence[Row], tail: str
) -> None:
    """SQLite: multi-row VALUES, thousands of rows per statement. SQLite runs a statement in
    one call with the GIL released, so the writer thread's SQLite work overlaps the event
    loop's derive step. executemany took the GIL back after every row, and so waited for
    the event loop's thread row by row: the two halves ran one after the other."""
    per = _SQLITE_MAX_VARIABLES // len(columns)
    for i in range(0, len(rows), per):
        chunk = rows[i : i + per]
        sql = _values_sql(table, columns, len(chunk), tail)
        conn.exec_driver_sql(sql, tuple(chain.from_iterable(chunk)))


def _values_sql(table: Table, columns: Columns, n: int, tail: str) -> str:
    names = ", ".join(name for name, _ in columns)
    row = "(" + ", ".join("?" * len(columns)) + ")"
    return f"INSERT INTO {table.name} ({names}) VALUES {', '.join([row] * n)} {tail}"


def _pg(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def lock_projects(conn: Connection, project_ids: Iterable[str]) -> None:
    """Serialize derived writes per project across processes, until the transaction ends.

    PostgreSQL: transaction-scoped advisory locks, taken in sorted order (no deadlocks).
    Exclusive for every slice: settling reads which events are stored before it writes
    (core.settle), and a concurrent slice could store one in between.
    Advisory locks are database-wide: every lock key here (these and RAW_LOG_LOCK) and in
    `leader`/`migrate`/`live_lock` includes the schema, so deployments (or test runs) in
    other schemas never wait on each other.
    SQLite needs none: its writer holds the database lock from BEGIN IMMEDIATE.
    """
    if conn.dialect.name != "postgresql":
        return
    for project_id in sorted(project_ids):
        conn.exec_driver_sql(
            "SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || ':' || %s, 0))",
            (project_id,),
        )
