"""Raw rows into the log on SQLite: many rows a statement, and many appends' rows at once.

The writer thread shares the GIL with the event loop that answers requests. sqlite3 gives the
GIL up around every statement step and then waits to get it back from the busy event loop;
executemany steps once per row, so a commit group of 16 single-event requests waited 16
times, and one 50-event batch 50 times (strace of `--role ingest` under wrk: a futex wait for
every request). A multi-row VALUES statement is one step, so one wait, for all its rows.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from functools import cache
from itertools import chain
from typing import Any

from usertrail.adapters.sql.dialect import RAW_COLUMNS
from usertrail.adapters.sql.tables import raw_events

Row = tuple[Any, ...]
# Statements hold a power of two of rows, at most this many (9 variables a row, far under
# SQLite's 32,766), so nine shapes cover every append and the driver's statement cache
# (128 statements) keeps them all prepared.
MAX_ROWS = 256


def insert_rows(cursor: sqlite3.Cursor, rows: Sequence[Row]) -> int:
    """Insert rows, skipping (project, uuid) already present; returns how many were new."""
    inserted, start = 0, 0
    while start < len(rows):
        n = min(MAX_ROWS, 1 << ((len(rows) - start).bit_length() - 1))
        chunk = rows[start : start + n]
        cursor.execute(_values_sql(n), tuple(chain.from_iterable(chunk)))
        inserted += cursor.rowcount  # for one INSERT: the rows it inserted
        start += n
    return inserted


def insert_appends(cursor: sqlite3.Cursor, appends: Sequence[Sequence[Row]]) -> list[int]:
    """Each append's count of new rows, with all appends' rows written together.

    One total gives every append's count only when no row was already there, the normal
    case. Otherwise (a client's retry) the rows go back to a savepoint and are written again
    append by append, in order, so each count is exact and the first copy of a uuid wins
    as it would have."""
    if len(appends) == 1:
        return [insert_rows(cursor, appends[0])]
    rows = [row for append in appends for row in append]
    cursor.execute("SAVEPOINT appends")
    if insert_rows(cursor, rows) == len(rows):
        cursor.execute("RELEASE appends")
        return [len(append) for append in appends]
    cursor.execute("ROLLBACK TO appends")
    cursor.execute("RELEASE appends")
    return [insert_rows(cursor, append) for append in appends]


@cache
def _values_sql(n: int) -> str:
    row = "(" + ", ".join("?" * len(RAW_COLUMNS)) + ")"
    return (
        f"INSERT INTO {raw_events.name} ({', '.join(RAW_COLUMNS)})"
        f" VALUES {', '.join([row] * n)} ON CONFLICT (project_id, uuid) DO NOTHING"
    )
