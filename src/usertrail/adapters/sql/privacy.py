"""Erasing a person on SQL, in one transaction; and the queue of sink lines to cut from files.

Everything keyed by one of the person's distinct ids goes: raw and derived events, person
rows, identity edges (both ends), property updates, counters and sets, trigger hits, trigger
firings and every delivery (pending ones are never sent; delivered and dead ones go too,
since their messages hold the person's data; the receiver keeps its own copy). Sink records
are emptied and marked `purge`: the sink writer, the one process that owns the files, cuts
those lines from them (current and rotated) and then deletes the records.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar

import msgspec
from sqlalchemy import Column, Connection, Engine, Table, delete, func, or_, select, update

from usertrail.adapters.sql.derived import recompute_identity
from usertrail.adapters.sql.dialect import lock_projects
from usertrail.adapters.sql.engine import checkpoint
from usertrail.adapters.sql.export import EventKey, event_page, person_records, raw_page
from usertrail.adapters.sql.persons import find_person
from usertrail.adapters.sql.tables import (
    counter_members,
    counters,
    dead_events,
    deliveries,
    events,
    group_members,
    group_updates,
    identity_edges,
    person_updates,
    persons,
    raw_events,
    sink_records,
    trigger_firings,
    trigger_hits,
)
from usertrail.adapters.sql.tombstones import record_erased
from usertrail.adapters.sql.writer import GroupCommitWriter
from usertrail.model.actions import PENDING, PendingLine
from usertrail.model.privacy import PURGE, Erasure, PersonRecords, RawExport

T = TypeVar("T")

WRITTEN = "written"
# What is deleted outright, and the column holding the person's id in it.
_BY_ID: tuple[tuple[str, Table, Column[str]], ...] = (
    ("events", events, events.c.distinct_id),
    ("person_updates", person_updates, person_updates.c.distinct_id),
    ("group_updates", group_updates, group_updates.c.distinct_id),
    ("group_members", group_members, group_members.c.distinct_id),
    ("counters", counters, counters.c.distinct_id),
    ("counter_members", counter_members, counter_members.c.distinct_id),
    ("trigger_hits", trigger_hits, trigger_hits.c.distinct_id),
    ("trigger_firings", trigger_firings, trigger_firings.c.anchor_id),
    ("persons", persons, persons.c.distinct_id),
)


def erase_person(
    conn: Connection, project_id: str, distinct_id: str, now: datetime
) -> Erasure | None:
    """Erase the person `distinct_id` belongs to; None if the project has no such id."""
    lock_projects(conn, [project_id])  # no slice of this project commits in between
    found = _person_ids(conn, project_id, distinct_id)
    if found is None:
        return None
    key, ids = found
    deleted = _delete_deliveries(conn, project_id, ids)
    mine = (raw_events.c.project_id == project_id, raw_events.c.distinct_id.in_(ids))
    dead = dead_events.c  # their error text may quote the event
    mine_uuids = select(raw_events.c.uuid).where(*mine)
    conn.execute(
        delete(dead_events).where(dead.project_id == project_id, dead.uuid.in_(mine_uuids))
    )
    deleted["raw_events"] = int(conn.execute(delete(raw_events).where(*mine)).rowcount)
    neighbours, deleted["identity_edges"] = _delete_edges(conn, project_id, ids)
    for name, table, column in _BY_ID:
        stmt = delete(table).where(table.c.project_id == project_id, column.in_(ids))
        deleted[name] = int(conn.execute(stmt).rowcount)
    sink_uuids, deleted["sink_records"] = _queue_sink_purge(conn, project_id, ids)
    record_erased(conn, project_id, ids, now)
    if neighbours:  # other persons an edge touched: resolve them without that edge
        recompute_identity(conn, project_id, neighbours)
    return Erasure(
        person_key=key,
        distinct_ids=tuple(ids),
        deleted=deleted,
        sink_uuids=tuple(sink_uuids),
        erased_at=now,
    )


def _person_ids(
    conn: Connection, project_id: str, distinct_id: str
) -> tuple[str, list[str]] | None:
    """The person's key and ids; an id with raw events not processed yet is its own person."""
    person = find_person(conn, project_id, distinct_id)
    if person is not None:
        return person.key, list(person.distinct_ids)
    query = select(raw_events.c.seq).where(
        raw_events.c.project_id == project_id, raw_events.c.distinct_id == distinct_id
    )
    return (distinct_id, [distinct_id]) if conn.execute(query.limit(1)).first() else None


def _delete_deliveries(conn: Connection, project_id: str, ids: list[str]) -> dict[str, int]:
    where = (deliveries.c.project_id == project_id, deliveries.c.anchor_id.in_(ids))
    by_status = conn.execute(
        select(deliveries.c.status, func.count()).where(*where).group_by(deliveries.c.status)
    ).all()
    conn.execute(delete(deliveries).where(*where))
    counts = {f"deliveries_{status}": 0 for status in ("pending", "delivered", "dead")}
    counts.update({f"deliveries_{row[0]}": int(row[1]) for row in by_status})
    return counts


def _delete_edges(conn: Connection, project_id: str, ids: list[str]) -> tuple[set[str], int]:
    edges = identity_edges.c
    touching = (
        edges.project_id == project_id,
        or_(edges.distinct_id.in_(ids), edges.other_id.in_(ids)),
    )
    ends = conn.execute(select(edges.distinct_id, edges.other_id).where(*touching)).all()
    count = conn.execute(delete(identity_edges).where(*touching)).rowcount
    return {i for row in ends for i in row} - set(ids), int(count)


def _queue_sink_purge(conn: Connection, project_id: str, ids: list[str]) -> tuple[list[str], int]:
    """Lines that are (or may be about to be) in a file are queued to leave it; the rest go."""
    records = sink_records.c
    mine = (records.project_id == project_id, records.distinct_id.in_(ids))
    rows = conn.execute(select(records.uuid, records.status).where(*mine)).all()
    conn.execute(
        update(sink_records)
        .where(*mine, records.status.in_((WRITTEN, PENDING)))
        .values(status=PURGE, line=None, distinct_id="")  # nothing of the person left
    )
    # What still matches was dropped (redaction failed): never written anywhere.
    conn.execute(delete(sink_records).where(*mine))
    return [r[0] for r in rows if r[1] in (WRITTEN, PENDING)], len(rows)


# --- the purge queue, read by the sink writer -------------------------------------------


def purge_jobs(conn: Connection, limit: int) -> list[PendingLine]:
    """Lines to cut from sink files, oldest first (`line` is empty: only the uuid matters)."""
    query = (
        select(sink_records.c.id, sink_records.c.path, sink_records.c.uuid)
        .where(sink_records.c.status == PURGE)
        .order_by(sink_records.c.id)
        .limit(limit)
    )
    return [PendingLine(id=r[0], path=r[1], uuid=r[2], line=b"") for r in conn.execute(query)]


def purged(conn: Connection, ids: Sequence[int]) -> None:
    conn.execute(delete(sink_records).where(sink_records.c.id.in_(ids)))


def purges_left(conn: Connection, project_id: str, uuids: Sequence[str]) -> int:
    query = select(func.count()).where(
        sink_records.c.project_id == project_id,
        sink_records.c.status == PURGE,
        sink_records.c.uuid.in_(uuids),
    )
    return int(conn.execute(query).scalar_one())


class SqlPrivacy:
    """Erasure, export reads and the sink purge queue, behind the group-commit writer."""

    def __init__(self, writer: GroupCommitWriter, reader: Engine) -> None:
        self._writer = writer
        self._reader = reader
        self._inline = reader.dialect.name == "sqlite"  # as SqlDerivedStore: no thread hop

    async def erase(self, project_id: str, distinct_id: str, now: datetime) -> Erasure | None:
        erasure = await self._writer.submit(lambda c: erase_person(c, project_id, distinct_id, now))
        if erasure is not None and self._inline:
            await asyncio.to_thread(checkpoint, self._reader)
        return erasure

    async def records(self, project_id: str, distinct_id: str) -> PersonRecords | None:
        return await self._read(lambda c: person_records(c, project_id, distinct_id))

    async def raw_page(
        self, project_id: str, distinct_id: str, after_seq: int, limit: int
    ) -> list[tuple[int, RawExport]]:
        return await self._read(lambda c: raw_page(c, project_id, distinct_id, after_seq, limit))

    async def event_page(
        self, project_id: str, distinct_id: str, after: EventKey, limit: int
    ) -> list[tuple[EventKey, msgspec.Raw]]:
        return await self._read(lambda c: event_page(c, project_id, distinct_id, after, limit))

    async def purges_left(self, project_id: str, uuids: Sequence[str]) -> int:
        return await self._read(lambda c: purges_left(c, project_id, uuids))

    async def purge_jobs(self, limit: int) -> list[PendingLine]:
        return await self._read(lambda c: purge_jobs(c, limit))

    async def purged(self, ids: Sequence[int]) -> None:
        await self._writer.submit(lambda c: purged(c, ids))

    async def _read(self, fn: Callable[[Connection], T]) -> T:
        def run() -> T:
            with self._reader.connect() as conn:
                return fn(conn)

        return run() if self._inline else await asyncio.to_thread(run)
