"""Reads for GET /persons/{id}/export: a person's records at once, their events in pages.

Pages are keyset scans per distinct id on existing indexes, so a person with a long history
is streamed in bounded memory. Pages are separate reads, not one snapshot: an event stored
while the export runs may or may not be in it.
"""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import Connection, and_, or_, select

from usertrail.adapters.sql.eventlog import from_us
from usertrail.adapters.sql.groups import person_groups
from usertrail.adapters.sql.persons import find_person, updates_of
from usertrail.adapters.sql.tables import (
    counter_members,
    counters,
    events,
    identity_edges,
    raw_events,
    sink_records,
)
from usertrail.model.counter import Counter
from usertrail.model.identity import MergeEdge
from usertrail.model.privacy import PersonCounter, PersonRecords, RawExport, SetMember, SinkLine

EventKey = tuple[int, str]  # (ts_us, uuid): where an events page resumes


def person_records(conn: Connection, project_id: str, distinct_id: str) -> PersonRecords | None:
    person = find_person(conn, project_id, distinct_id)
    if person is None:
        return None
    ids = person.distinct_ids
    return PersonRecords(
        person=person,
        updates=tuple(updates_of(conn, person)),
        edges=tuple(_edges(conn, project_id, ids)),
        counters=tuple(_counters(conn, project_id, ids)),
        sets=tuple(_sets(conn, project_id, ids)),
        sink_lines=tuple(_sink_lines(conn, project_id, ids)),
        groups=tuple(person_groups(conn, person)),
    )


def raw_page(
    conn: Connection, project_id: str, distinct_id: str, after_seq: int, limit: int
) -> list[tuple[int, RawExport]]:
    r = raw_events.c
    query = (
        select(raw_events)
        .where(r.project_id == project_id, r.distinct_id == distinct_id, r.seq > after_seq)
        .order_by(r.seq)
        .limit(limit)
    )
    return [(row.seq, _raw(row._mapping)) for row in conn.execute(query)]


def event_page(
    conn: Connection, project_id: str, distinct_id: str, after: EventKey, limit: int
) -> list[tuple[EventKey, msgspec.Raw]]:
    e = events.c
    ts, uuid = after
    later = or_(e.ts_us > ts, and_(e.ts_us == ts, e.uuid > uuid))
    query = (
        select(e.ts_us, e.uuid, e.data)
        .where(e.project_id == project_id, e.distinct_id == distinct_id, later)
        .order_by(e.ts_us, e.uuid)
        .limit(limit)
    )
    return [((row[0], row[1]), msgspec.Raw(row[2])) for row in conn.execute(query)]


def _raw(row: Any) -> RawExport:
    return RawExport(
        uuid=row["uuid"],
        event=row["event"],
        distinct_id=row["distinct_id"],
        timestamp=from_us(row["ts_us"]),
        received_at=from_us(row["received_us"]),
        source=row["source"],
        ip=row["ip"],
        body=msgspec.Raw(row["body"]),
    )


def _edges(conn: Connection, project_id: str, ids: tuple[str, ...]) -> list[MergeEdge]:
    e = identity_edges.c
    query = (
        select(e.uuid, e.ts_us, e.kind, e.distinct_id, e.other_id)
        .where(e.project_id == project_id, or_(e.distinct_id.in_(ids), e.other_id.in_(ids)))
        .order_by(e.ts_us, e.uuid)
    )
    return [
        MergeEdge(uuid=r[0], timestamp=from_us(r[1]), kind=r[2], distinct_id=r[3], other_id=r[4])
        for r in conn.execute(query)
    ]


def _counters(conn: Connection, project_id: str, ids: tuple[str, ...]) -> list[PersonCounter]:
    c = counters.c
    query = (
        select(c.distinct_id, c.key, c.count, c.first_us, c.last_us)
        .where(c.project_id == project_id, c.distinct_id.in_(ids))
        .order_by(c.distinct_id, c.key)
    )
    return [
        PersonCounter(
            distinct_id=r[0],
            key=r[1],
            counter=Counter(count=r[2], first=from_us(r[3]), last=from_us(r[4])),
        )
        for r in conn.execute(query)
    ]


def _sets(conn: Connection, project_id: str, ids: tuple[str, ...]) -> list[SetMember]:
    m = counter_members.c
    query = (
        select(m.distinct_id, m.set_key, m.member)
        .where(m.project_id == project_id, m.distinct_id.in_(ids))
        .order_by(m.distinct_id, m.set_key, m.member)
    )
    return [SetMember(distinct_id=r[0], set=r[1], member=r[2]) for r in conn.execute(query)]


def _sink_lines(conn: Connection, project_id: str, ids: tuple[str, ...]) -> list[SinkLine]:
    s = sink_records.c
    query = (
        select(s.sink, s.uuid, s.status, s.path, s.line)
        .where(s.project_id == project_id, s.distinct_id.in_(ids))
        .order_by(s.id)
    )
    return [
        SinkLine(
            sink=r[0],
            uuid=r[1],
            status=r[2],
            path=r[3],
            line=msgspec.Raw(r[4]) if r[4] is not None else None,
        )
        for r in conn.execute(query)
    ]
