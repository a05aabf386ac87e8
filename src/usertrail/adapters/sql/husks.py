"""Deleting raw events without letting SQLite hand their `seq` out again.

`raw_events.seq` is SQLite's rowid without AUTOINCREMENT, so a new row takes the largest
rowid in the table plus one. Deleting the newest row would give its `seq` to the next event,
at or below the processor's cursor, which would then never process it. So on SQLite the
newest row is never deleted: it is emptied into a husk (no project, no ids, no body), which
processing drops (tombstones.screen_erased) and the next deletion removes once a newer row
exists. PostgreSQL's sequence never reuses a value: rows are simply deleted there.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Connection, delete, func, select, update

from usertrail.adapters.sql.tables import raw_events

HUSK_PROJECT = "\x00husk"  # no project can have this id


def delete_raw(conn: Connection, *where: ColumnElement[bool]) -> int:
    """Delete the raw events matching `where`; returns how many."""
    if conn.dialect.name != "sqlite":
        return int(conn.execute(delete(raw_events).where(*where)).rowcount)
    raw = raw_events.c
    newest = conn.execute(select(func.max(raw.seq))).scalar()
    deleted = conn.execute(delete(raw_events).where(*where, raw.seq != newest)).rowcount
    husked = conn.execute(
        update(raw_events)
        .where(*where, raw.seq == newest)
        .values(
            project_id=HUSK_PROJECT,
            uuid=f"husk-{newest}",
            event="",
            distinct_id="",
            source="husk",
            ip=None,
            body=b"{}",
        )
    ).rowcount
    conn.execute(delete(raw_events).where(raw.project_id == HUSK_PROJECT, raw.seq != newest))
    return int(deleted) + int(husked)
