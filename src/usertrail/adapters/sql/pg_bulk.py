"""PostgreSQL bulk writes of the processor's hottest tables.

A large slice goes through binary COPY into a staging table (temporary, so never logged,
one per connection, emptied at commit), then one `INSERT … SELECT … ON CONFLICT`. Against
one `INSERT … SELECT FROM unnest(%s::text[], …)` per table (measured, 50,000 events in
slices of 10,000): the events insert ran 1.9–2.3× as fast, the client's CPU fell from
0.7 s to 0.07 s (psycopg dumps array parameters in Python, element by element; binary COPY
rows in C) and PostgreSQL's from 0.9 s to 0.5 s (no array text to parse). A small slice
(live traffic) keeps the one `unnest` statement: COPY costs three round trips.

Rows go in in the conflict key's order (ORDER BY), so writers that overlap lock rows in
one order and cannot deadlock. Today no two slices of a project overlap (lock_projects is
exclusive); the order is what a shared lock for plain slices would need, and costs a sort.
Dropping it saved nothing (measured, issue 22: the store's PostgreSQL CPU per event, five
interleaved pairs, 0.0280 s per 1,000 events with it, 0.0297 without; perf: the sort is 8%
of the backend's time; presumably rows in key order, visiting index pages in turn, win it back).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table

Row = Sequence[Any]
Columns = tuple[tuple[str, str], ...]  # (name, PostgreSQL type), in row order
STAGE_MIN_ROWS = 64  # below this, one `unnest` statement beats three round trips
SORT_MEMORY = "64MB"  # for the writer's transaction only (SET LOCAL)


def bulk_insert(
    conn: Connection, table: Table, columns: Columns, rows: Sequence[Row], tail: str, order: str
) -> Any:
    """INSERT `rows` into `table`, in `order` (the conflict key's columns), then `tail`
    (ON CONFLICT …, RETURNING …); returns the statement's result."""
    if len(rows) < STAGE_MIN_ROWS:
        return unnest_insert(conn, table, _unbounded(columns), rows, tail, order)
    stage = _staged(conn, table, columns, rows)
    names = ", ".join(name for name, _ in columns)
    sql = f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {stage} ORDER BY {order} {tail}"
    return conn.exec_driver_sql(sql)


def _unbounded(columns: Columns) -> Columns:
    """The types without their length: a cast to varchar(36) cuts a longer value (PostgreSQL's
    explicit casts truncate), and the events insert then RETURNs a uuid that is not the one
    sent, which read as "stored before": the event went uncounted, stored under a cut key.
    Uncut, the column refuses it, as COPY does (and a plain INSERT)."""
    return tuple((name, kind.split("(")[0]) for name, kind in columns)


def _staged(conn: Connection, table: Table, columns: Columns, rows: Sequence[Row]) -> str:
    """The rows COPYed (binary) into this connection's staging table for `table`."""
    stage = f"stage_{table.name}"
    # The ORDER BY sorts whole rows: 10,000 events spilled to disk with the default 4 MB.
    # One round trip for both (no parameters: the simple protocol takes two statements); a
    # writer thread that waits for PostgreSQL waits again for the GIL after each answer.
    conn.exec_driver_sql(
        f"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {table.name}) ON COMMIT DELETE ROWS;"
        f" SET LOCAL work_mem = '{SORT_MEMORY}'"
    )
    names = ", ".join(name for name, _ in columns)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY {stage} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types([kind.split("(")[0].lower() for _, kind in columns])
        for row in rows:
            copy.write_row(row)
    return stage


def unnest_insert(
    conn: Connection,
    table: Table,
    columns: Columns,
    rows: Sequence[Row],
    tail: str,
    order: str | None = None,
) -> Any:
    """One INSERT of `rows` as arrays, one per column; in `order` if given, else in the
    rows' own order (the raw log's seqs follow it)."""
    names = ", ".join(name for name, _ in columns)
    arrays = ", ".join(f"%s::{kind}[]" for _, kind in columns)
    sql = f"INSERT INTO {table.name} ({names}) SELECT * FROM unnest({arrays}) AS s({names})"
    if order is not None:
        sql += f" ORDER BY {order}"
    return conn.exec_driver_sql(
        f"{sql} {tail}", tuple(list(column) for column in zip(*rows, strict=True))
    )
