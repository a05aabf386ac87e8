"""Writes the processor's derived rows; every statement is idempotent and commutative."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec
from sqlalchemy import Connection, delete, or_, select, update

from usertrail.adapters.sql.dialect import (
    add_counters,
    add_members,
    greatest,
    insert_events,
    insert_for,
    lock_projects,
    upsert_persons,
)
from usertrail.adapters.sql.eventlog import from_us, to_us
from usertrail.adapters.sql.tables import (
    counter_members,
    counters,
    cursors,
    events,
    identity_edges,
    person_updates,
    persons,
    trigger_hits,
)
from usertrail.adapters.sql.tombstones import screen_erased
from usertrail.adapters.sql.triggers import apply_triggers, insert_sink_records
from usertrail.core.identity import resolve
from usertrail.core.process import Derived
from usertrail.model.event import Event
from usertrail.model.identity import MergeEdge

_encode = msgspec.json.Encoder().encode
# Firings, deliveries and sink records are not here: they record side effects, so a replay
# must see them to not repeat them.
DERIVED_TABLES = (
    events,
    persons,
    identity_edges,
    person_updates,
    counters,
    counter_members,
    trigger_hits,
)


def apply_derived(conn: Connection, derived: Derived, cursor: str | None) -> list[Event]:
    """Store one processed slice and advance `cursor` (if any), atomically. Returns the new
    events."""
    # Workers in other processes apply slices of the same projects concurrently: identity
    # recomputation and trigger counts read what they then write, so they take turns.
    lock_projects(conn, {e.project_id for e in derived.events})
    derived = screen_erased(conn, derived)  # erased persons stay erased (core.erasure)
    new_uuids = _insert_events(conn, derived.events)
    new: list[tuple[Event, tuple[str, ...]]] = []
    members: set[tuple[str, str, str, str]] = set()
    for event, keys, joined in zip(
        derived.events, derived.counter_keys, derived.set_members, strict=True
    ):
        key = (event.project_id, event.uuid)
        if key in new_uuids:
            new_uuids.discard(key)  # a duplicate within this slice counts once
            new.append((event, keys))
            members.update((event.project_id, event.distinct_id, k, m) for k, m in joined)
    # Set membership is idempotent by itself: no need to know which are new.
    add_members(conn, sorted(members))
    _add_counters(conn, new)
    _upsert_seen(conn, derived)
    _insert_updates(conn, derived)
    new_edges = _insert_edges(conn, derived)
    for project_id, edge_ids in _by_project(new_edges).items():
        recompute_identity(conn, project_id, edge_ids)
    apply_triggers(conn, derived)  # after identity: merged persons count together
    insert_sink_records(conn, derived)
    if cursor is not None:
        set_cursor(conn, cursor, derived.last_seq)
    return [e for e, _ in new]


def _add_counters(conn: Connection, new: list[tuple[Event, tuple[str, ...]]]) -> None:
    """Only events stored for the first time count, so every count is exact."""
    totals: dict[tuple[str, str, str], list[int]] = {}
    for e, keys in new:
        ts = to_us(e.timestamp)
        for key in keys:
            slot = totals.setdefault((e.project_id, e.distinct_id, key), [0, ts, ts])
            slot[0] += 1
            slot[1], slot[2] = min(slot[1], ts), max(slot[2], ts)
    if not totals:
        return
    # The hottest statement of the processor (several counters per event).
    add_counters(conn, [(p, d, k, c, f, la) for (p, d, k), (c, f, la) in totals.items()])


def _insert_events(conn: Connection, items: Iterable[Event]) -> set[tuple[str, str]]:
    rows = [
        (
            e.project_id,
            e.uuid,
            e.distinct_id,
            to_us(e.timestamp),
            e.name,
            e.kind,
            e.session_id,
            e.feature,
            _encode(e),
        )
        for e in items
    ]
    return insert_events(conn, rows)


def _upsert_seen(conn: Connection, derived: Derived) -> None:
    rows = [
        (s.project_id, s.distinct_id, s.distinct_id, to_us(s.first), to_us(s.last))
        for s in derived.seen
    ]
    upsert_persons(conn, rows)


def _insert_updates(conn: Connection, derived: Derived) -> None:
    rows = [
        {"project_id": p, "uuid": u.uuid, "distinct_id": d, "data": _encode(u)}
        for p, d, u in derived.updates
    ]
    if rows:
        conn.execute(insert_for(conn, person_updates).on_conflict_do_nothing(), rows)


def _insert_edges(conn: Connection, derived: Derived) -> list[tuple[str, MergeEdge]]:
    new = []
    for project_id, edge in derived.edges:
        stmt = (
            insert_for(conn, identity_edges)
            .values(
                project_id=project_id,
                uuid=edge.uuid,
                ts_us=to_us(edge.timestamp),
                kind=edge.kind,
                distinct_id=edge.distinct_id,
                other_id=edge.other_id,
            )
            .on_conflict_do_nothing()
            .returning(identity_edges.c.uuid)
        )
        if conn.execute(stmt).first() is not None:
            new.append((project_id, edge))
    return new


def _by_project(edges: list[tuple[str, MergeEdge]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for project_id, edge in edges:
        out.setdefault(project_id, set()).update((edge.distinct_id, edge.other_id))
    return out


def recompute_identity(conn: Connection, project_id: str, start_ids: set[str]) -> None:
    """Re-resolve the identity components touching `start_ids` from all their edges.

    Edges are rare (one per login), so recomputing a component from its edges in canonical
    order is cheap, and it makes the person mapping independent of arrival order.
    """
    ids, edges = _component(conn, project_id, start_ids)
    for distinct_id, key in resolve(edges, seen_ids=ids).items():
        conn.execute(
            update(persons)
            .where(persons.c.project_id == project_id, persons.c.distinct_id == distinct_id)
            .values(person_key=key)
        )


def _component(
    conn: Connection, project_id: str, start: set[str]
) -> tuple[set[str], list[MergeEdge]]:
    ids, frontier, edges = set(start), set(start), {}
    while frontier:
        query = select(identity_edges).where(
            identity_edges.c.project_id == project_id,
            or_(
                identity_edges.c.distinct_id.in_(frontier), identity_edges.c.other_id.in_(frontier)
            ),
        )
        found = [_edge(row._mapping) for row in conn.execute(query)]
        edges.update({e.uuid: e for e in found})
        reached = {i for e in found for i in (e.distinct_id, e.other_id)}
        frontier = reached - ids
        ids |= reached
    return ids, list(edges.values())


def _edge(row: Any) -> MergeEdge:
    return MergeEdge(
        uuid=row["uuid"],
        timestamp=from_us(row["ts_us"]),
        kind=row["kind"],
        distinct_id=row["distinct_id"],
        other_id=row["other_id"],
    )


def set_cursor(conn: Connection, name: str, seq: int) -> None:
    stmt = insert_for(conn, cursors).values(name=name, seq=seq)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["name"], set_={"seq": greatest(conn, cursors.c.seq, stmt.excluded.seq)}
        )
    )


def read_cursor(conn: Connection, name: str) -> int:
    value = conn.execute(select(cursors.c.seq).where(cursors.c.name == name)).scalar()
    return int(value or 0)


def clear_derived(conn: Connection) -> None:
    """For replay: derived state is disposable; the raw log is the truth."""
    for table in DERIVED_TABLES:
        conn.execute(delete(table))
    conn.execute(delete(cursors))
