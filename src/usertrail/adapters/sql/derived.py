"""Writes the processor's derived rows; every statement is idempotent and commutative."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import msgspec
from sqlalchemy import Connection, delete, or_, select, update

from usertrail.adapters.sql.dialect import (
    add_counters,
    add_members,
    greatest,
    insert_events,
    insert_for,
    least,
    lock_projects,
    upsert_persons,
)
from usertrail.adapters.sql.eventlog import from_us, to_us
from usertrail.adapters.sql.pg_bulk import Row
from usertrail.adapters.sql.tables import (
    counter_members,
    counters,
    cursors,
    events,
    group_members,
    group_updates,
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
from usertrail.model.group import Membership
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
    group_updates,
    group_members,
)


class SliceRows(NamedTuple):
    """A slice's event, counter and set-member rows, as if every event were new (the common
    case). Built before the slice goes to the writer thread, which was the processor's
    bottleneck: the counter sums alone were a fifth of its time."""

    events: Sequence[Row]
    counters: Sequence[Row]
    members: Sequence[Row]


def slice_rows(derived: Derived) -> SliceRows:
    return SliceRows(
        events=[_event_row(e) for e in derived.events],
        counters=_counter_rows(zip(derived.events, derived.counter_keys, strict=True)),
        members=_member_rows(zip(derived.events, derived.set_members, strict=True)),
    )


def apply_derived(
    conn: Connection, derived: Derived, cursor: str | None, rows: SliceRows | None = None
) -> list[Event]:
    """Store one processed slice and advance `cursor` (if any), atomically. Returns the new
    events. `rows`: slice_rows(derived), if the caller built them already."""
    # Workers in other processes apply slices of the same projects concurrently: identity
    # recomputation and trigger counts read what they then write, so they take turns; a
    # slice with neither only adds commutative rows, beside other such slices.
    only_adds = not derived.edges and not derived.trigger_checks
    lock_projects(conn, {e.project_id for e in derived.events}, shared=only_adds)
    screened = screen_erased(conn, derived)  # erased persons stay erased (core.erasure)
    if rows is None or screened is not derived:
        rows = slice_rows(screened)
    derived = screened
    new_uuids = insert_events(conn, rows.events)
    if len(new_uuids) == len(derived.events):  # every event new, and none twice
        new = list(derived.events)
    else:  # only events stored for the first time count, so every count is exact
        new, rows = _first_stored(derived, new_uuids)
    add_members(conn, rows.members)
    add_counters(conn, rows.counters)  # the processor's hottest statement
    _upsert_seen(conn, derived)
    _insert_updates(conn, derived)
    _insert_group_updates(conn, derived)
    upsert_memberships(conn, derived.memberships)
    new_edges = _insert_edges(conn, derived)
    for project_id, edge_ids in _by_project(new_edges).items():
        recompute_identity(conn, project_id, edge_ids)
    apply_triggers(conn, derived)  # after identity: merged persons count together
    insert_sink_records(conn, derived)
    if cursor is not None:
        set_cursor(conn, cursor, derived.last_seq)
    return new


def _first_stored(
    derived: Derived, new_uuids: set[tuple[str, str]]
) -> tuple[list[Event], SliceRows]:
    """The events just stored (a duplicate within the slice counts once), and their rows."""
    new: list[tuple[Event, tuple[str, ...], tuple[tuple[str, str], ...]]] = []
    for event, keys, joined in zip(
        derived.events, derived.counter_keys, derived.set_members, strict=True
    ):
        key = (event.project_id, event.uuid)
        if key in new_uuids:
            new_uuids.discard(key)
            new.append((event, keys, joined))
    rows = SliceRows(
        events=[],
        counters=_counter_rows((e, keys) for e, keys, _ in new),
        members=_member_rows((e, joined) for e, _, joined in new),
    )
    return [e for e, _, _ in new], rows


def _event_row(e: Event) -> Row:
    ts = to_us(e.timestamp)
    return (
        e.project_id,
        e.uuid,
        e.distinct_id,
        ts,
        e.name,
        e.kind,
        e.session_id,
        e.feature,
        _encode(e),
    )


def _counter_rows(items: Iterable[tuple[Event, tuple[str, ...]]]) -> list[Row]:
    """(project, distinct id, key, count, first, last), one row per key."""
    totals: dict[tuple[str, str, str], list[int]] = {}
    for e, keys in items:
        ts = to_us(e.timestamp)
        for key in keys:
            slot = totals.get((e.project_id, e.distinct_id, key))
            if slot is None:
                totals[(e.project_id, e.distinct_id, key)] = [1, ts, ts]
            else:
                slot[0] += 1
                if ts < slot[1]:
                    slot[1] = ts
                elif ts > slot[2]:
                    slot[2] = ts
    return [(p, d, k, c, first, last) for (p, d, k), (c, first, last) in totals.items()]


def _member_rows(items: Iterable[tuple[Event, tuple[tuple[str, str], ...]]]) -> Sequence[Row]:
    """Set membership is idempotent by itself: each (person id, set, member) once, sorted."""
    return sorted({(e.project_id, e.distinct_id, k, m) for e, joined in items for k, m in joined})


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


def _insert_group_updates(conn: Connection, derived: Derived) -> None:
    rows = [
        {
            "project_id": p,
            "uuid": u.uuid,
            "group_type": u.group_type,
            "group_key": u.group_key,
            "distinct_id": u.distinct_id,
            "data": _encode(u),
        }
        for p, u in derived.group_updates
    ]
    if rows:
        conn.execute(insert_for(conn, group_updates).on_conflict_do_nothing(), rows)


def upsert_memberships(conn: Connection, spans: Iterable[Membership]) -> None:
    """Widen each membership's first/last: min and max, so any order gives the same span."""
    rows = [
        {
            "project_id": m.project_id,
            "group_type": m.group_type,
            "group_key": m.group_key,
            "distinct_id": m.distinct_id,
            "first_us": to_us(m.first),
            "last_us": to_us(m.last),
        }
        for m in sorted(spans, key=_membership_key)
    ]
    if not rows:
        return
    stmt = insert_for(conn, group_members)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["project_id", "group_type", "group_key", "distinct_id"],
            set_={
                "first_us": least(conn, group_members.c.first_us, stmt.excluded.first_us),
                "last_us": greatest(conn, group_members.c.last_us, stmt.excluded.last_us),
            },
        ),
        rows,
    )


def _membership_key(m: Membership) -> tuple[str, str, str, str]:
    """Rows upserted in key order: concurrent slices lock them in one order (pg_bulk)."""
    return (m.project_id, m.group_type, m.group_key, m.distinct_id)


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
