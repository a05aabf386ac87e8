"""Tombstones of erased ids: written by an erasure, read by every slice the processor stores.

The check runs inside the slice's transaction, after the per-project lock, so an erasure
committing while a slice is derived cannot be overtaken by it (see core.erasure).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection, delete, func, select

from usertrail.adapters.sql.dialect import insert_for
from usertrail.adapters.sql.eventlog import from_us, to_us
from usertrail.adapters.sql.key_chunks import KEYS_PER_STATEMENT, project_chunks
from usertrail.adapters.sql.tables import deleted_ids, raw_events
from usertrail.core.erasure import Erased, id_hash, slice_ids
from usertrail.core.process import Derived


def erased_for(conn: Connection, derived: Derived) -> Erased:
    """When each id the slice mentions was erased, for those that were (core.erasure)."""
    if not _any_erased(conn, {r.event.project_id for r in derived.records}):
        return {}  # the common case: one indexed probe, nothing hashed
    return erased_among(conn, slice_ids(derived))


def drop_raw(conn: Connection, keys: Iterable[tuple[str, str]]) -> None:
    """Delete these (project, uuid) from the raw log: events erased ids may not bring back."""
    raw = raw_events.c
    for project_id, uuids in project_chunks(set(keys), KEYS_PER_STATEMENT):
        conn.execute(delete(raw_events).where(raw.project_id == project_id, raw.uuid.in_(uuids)))


def erased_among(conn: Connection, ids: Iterable[tuple[str, str]]) -> Erased:
    """When each of these (project, distinct id) was erased, for those that were."""
    by_hash = {id_hash(p, d): (p, d) for p, d in ids}
    if not by_hash:
        return {}
    projects = {p for p, _ in by_hash.values()}
    rows = conn.execute(
        select(deleted_ids.c.id_hash, deleted_ids.c.deleted_us).where(
            deleted_ids.c.project_id.in_(projects), deleted_ids.c.id_hash.in_(list(by_hash))
        )
    )
    return {by_hash[str(row[0])]: from_us(int(row[1])) for row in rows}


def record_erased(
    conn: Connection, project_id: str, distinct_ids: Iterable[str], at: datetime
) -> None:
    rows = [
        {"project_id": project_id, "id_hash": id_hash(project_id, d), "deleted_us": to_us(at)}
        for d in distinct_ids
    ]
    stmt = insert_for(conn, deleted_ids)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["project_id", "id_hash"],
            set_={"deleted_us": stmt.excluded.deleted_us},
        ),
        rows,
    )


def erasures(conn: Connection) -> tuple[int, int]:
    """How many ids are erased and when the last was: it moves with every erasure (erasing an
    id again moves its time), so a process that did not make one can tell that one was made."""
    row = conn.execute(select(func.count(), func.max(deleted_ids.c.deleted_us))).one()
    return int(row[0]), int(row[1] or 0)


def _any_erased(conn: Connection, projects: set[str]) -> bool:
    query = select(deleted_ids.c.project_id).where(deleted_ids.c.project_id.in_(projects))
    return conn.execute(query.limit(1)).first() is not None
