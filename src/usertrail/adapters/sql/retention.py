"""Retention on SQL: prune old events in batches, each batch one transaction (core.retention).

A batch removes up to `limit` of the oldest prunable events from the derived and raw tables
together, then rebuilds the counters and sets of the ids that lost events from what those ids
have left, under the per-project lock: a slice stored at the same time either lands before
the rebuild (and is counted by it) or after (and adds to it). On SQLite a batch holds the one
writer, so batches stay small and ingest commits between them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from datetime import datetime

import msgspec
from sqlalchemy import Connection, Engine, and_, delete, exists, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from usertrail.adapters.sql.derived import upsert_memberships
from usertrail.adapters.sql.dialect import add_counters, add_members, lock_projects
from usertrail.adapters.sql.eventlog import to_us
from usertrail.adapters.sql.tables import (
    counter_members,
    counters,
    deliveries,
    events,
    group_members,
    group_updates,
    identity_edges,
    person_updates,
    persons,
    raw_events,
    trigger_hits,
)
from usertrail.adapters.sql.writer import GroupCommitWriter
from usertrail.core.groups import memberships
from usertrail.core.retention import KEPT_EVENTS, CounterKey, Member
from usertrail.model.actions import DEAD, DELIVERED
from usertrail.model.counter import Counter
from usertrail.model.event import Event, PersonId

Rebuild = Callable[[Iterable[Event]], tuple[dict[CounterKey, Counter], set[Member]]]
_decode_event = msgspec.json.Decoder(Event).decode


def prunable(cutoff_us: int) -> ColumnElement[bool]:
    return and_(events.c.ts_us < cutoff_us, events.c.name.notin_(KEPT_EVENTS))


def count_prunable(conn: Connection, cutoff_us: int) -> int:
    query = select(func.count()).select_from(events).where(prunable(cutoff_us))
    return int(conn.execute(query).scalar_one())


def prune_batch(
    conn: Connection, cutoff_us: int, limit: int, rebuild: Rebuild
) -> tuple[int, list[PersonId]]:
    """Prune up to `limit` of the oldest prunable events; returns how many, and whose."""
    e = events.c
    rows = conn.execute(
        select(e.project_id, e.uuid, e.distinct_id)
        .where(prunable(cutoff_us))
        .order_by(e.ts_us)
        .limit(limit)
    ).all()
    by_project: dict[str, tuple[set[str], set[str]]] = {}
    for row in rows:
        uuids, ids = by_project.setdefault(str(row[0]), (set(), set()))
        uuids.add(str(row[1]))
        ids.add(str(row[2]))
    lock_projects(conn, by_project)
    for project_id, (uuids, ids) in by_project.items():
        _delete_events(conn, project_id, sorted(uuids), sorted(ids))
        _rebuild_counters(conn, project_id, sorted(ids), rebuild)
        _drop_empty_persons(conn, project_id, sorted(ids))
    changed = [
        PersonId(project_id=p, distinct_id=d) for p, (_, ids) in by_project.items() for d in ids
    ]
    return len(rows), changed


def prune_deliveries(conn: Connection, cutoff_us: int) -> int:
    """Finished deliveries (sent or dead) older than the cutoff; their firings stay."""
    d = deliveries.c
    stmt = delete(deliveries).where(d.status.in_((DELIVERED, DEAD)), d.created_us < cutoff_us)
    return int(conn.execute(stmt).rowcount)


def _delete_events(conn: Connection, project_id: str, uuids: list[str], ids: list[str]) -> None:
    for table in (events, person_updates, group_updates, raw_events):
        conn.execute(delete(table).where(table.c.project_id == project_id, table.c.uuid.in_(uuids)))
    hits = trigger_hits.c
    conn.execute(
        delete(trigger_hits).where(
            hits.project_id == project_id, hits.distinct_id.in_(ids), hits.uuid.in_(uuids)
        )
    )


def _rebuild_counters(conn: Connection, project_id: str, ids: list[str], rebuild: Rebuild) -> None:
    for table in (counters, counter_members):
        conn.execute(
            delete(table).where(table.c.project_id == project_id, table.c.distinct_id.in_(ids))
        )
    left = conn.execute(
        select(events.c.data).where(
            events.c.project_id == project_id, events.c.distinct_id.in_(ids)
        )
    )
    kept = [_decode_event(row[0]) for row in left]
    totals, members = rebuild(kept)
    add_counters(
        conn,
        [(p, d, k, c.count, to_us(c.first), to_us(c.last)) for (p, d, k), c in totals.items()],
    )
    add_members(conn, sorted(members))
    _rebuild_memberships(conn, project_id, ids, kept)


def _rebuild_memberships(
    conn: Connection, project_id: str, ids: list[str], kept: list[Event]
) -> None:
    """Group spans from the events these ids have left, as replay would make them."""
    m = group_members.c
    conn.execute(delete(group_members).where(m.project_id == project_id, m.distinct_id.in_(ids)))
    upsert_memberships(conn, memberships(kept))


def _drop_empty_persons(conn: Connection, project_id: str, ids: list[str]) -> None:
    """An id with no event, edge or property write left is forgotten, as replay would."""
    p = persons.c
    has_events = exists().where(
        events.c.project_id == p.project_id, events.c.distinct_id == p.distinct_id
    )
    has_updates = exists().where(
        person_updates.c.project_id == p.project_id, person_updates.c.distinct_id == p.distinct_id
    )
    edge = identity_edges.c
    has_edges = exists().where(
        edge.project_id == p.project_id,
        or_(edge.distinct_id == p.distinct_id, edge.other_id == p.distinct_id),
    )
    conn.execute(
        delete(persons).where(
            p.project_id == project_id,
            p.distinct_id.in_(ids),
            ~has_events,
            ~has_updates,
            ~has_edges,
        )
    )


class SqlRetention:
    def __init__(self, writer: GroupCommitWriter, reader: Engine) -> None:
        self._writer = writer
        self._reader = reader

    async def count_prunable(self, cutoff: datetime) -> int:
        def run() -> int:
            with self._reader.connect() as conn:
                return count_prunable(conn, to_us(cutoff))

        return await asyncio.to_thread(run)

    async def prune_batch(
        self, cutoff: datetime, limit: int, rebuild: Rebuild
    ) -> tuple[int, list[PersonId]]:
        return await self._writer.submit(
            lambda conn: prune_batch(conn, to_us(cutoff), limit, rebuild), weight=limit
        )

    async def prune_deliveries(self, cutoff: datetime) -> int:
        return await self._writer.submit(lambda conn: prune_deliveries(conn, to_us(cutoff)))
