"""Writes the processor's derived rows; every statement is idempotent and commutative."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

import msgspec
from sqlalchemy import Connection, bindparam, delete, or_, select, update

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
from usertrail.adapters.sql.tombstones import drop_raw, erased_for
from usertrail.adapters.sql.triggers import apply_triggers, insert_hits, insert_sink_records
from usertrail.core.erasure import screen
from usertrail.core.identity import resolve
from usertrail.core.process import Derived, DerivedEvent
from usertrail.core.settle import Known, PersonKey, Plan, Tally, settle, tally
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

    tally: Tally
    events: Sequence[Row]
    counters: Sequence[Row]
    members: Sequence[Row]


def slice_rows(records: Sequence[DerivedEvent], counted: Tally | None = None) -> SliceRows:
    if counted is None:
        counted = tally(records)
    return SliceRows(
        tally=counted,
        events=[_event_row(r.event) for r in records],
        counters=[(p, d, k, n, to_us(t0), to_us(t1)) for p, d, k, n, t0, t1 in counted.counters],
        members=counted.members,  # (project, distinct id, set, member): rows already
    )


def apply_derived(
    conn: Connection, derived: Derived, cursor: str | None, rows: SliceRows | None = None
) -> list[Event]:
    """Store one processed slice and advance `cursor` (if any), atomically. Returns the new
    events. `rows`: slice_rows(derived.records), if the caller built them already."""
    # Workers in other processes apply slices of the same projects concurrently: what
    # settling reads must not change before its plan is written, so they take turns.
    lock_projects(conn, {r.event.project_id for r in derived.records})
    plan = settle(derived, read_known(conn, derived, rows), rows.tally if rows else None)
    if rows is None or plan.tally is not rows.tally:
        rows = slice_rows(plan.new, plan.tally)
    now = datetime.now(UTC)
    write_plan(conn, plan, rows, now)
    apply_triggers(conn, plan.slice.trigger_checks, now)  # after identity: persons as merged
    if cursor is not None:
        set_cursor(conn, cursor, plan.cursor)
    return [r.event for r in plan.new]


def read_known(conn: Connection, derived: Derived, rows: SliceRows | None = None) -> Known:
    """What settling `derived` reads: tombstones, stored identity edges, and which of its
    events were stored before. That last read is the events' insert itself: inserting if
    absent is idempotent, and what it skipped is what was stored (insert_events). Only the
    events that erasure lets through are inserted (core.erasure.screen, as settle does)."""
    erased = erased_for(conn, derived)
    screened, _ = screen(derived, erased)
    if rows is None or screened is not derived:
        rows = slice_rows(screened.records)
    return Known(
        erased=erased,
        stored=frozenset(insert_events(conn, rows.events)),
        edges=tuple(_stored_components(conn, derived.edges)),
    )


def write_plan(conn: Connection, plan: Plan, rows: SliceRows, now: datetime) -> None:
    drop_raw(conn, plan.dropped)  # the events themselves went in with read_known
    add_members(conn, rows.members)
    add_counters(conn, rows.counters)  # the processor's hottest statement
    _upsert_seen(conn, plan.slice)
    _insert_updates(conn, plan.slice)
    _insert_group_updates(conn, plan.slice)
    upsert_memberships(conn, plan.slice.memberships)
    _insert_edges(conn, plan.edges)
    set_person_keys(conn, plan.person_keys)
    insert_hits(conn, plan.slice.trigger_hits)
    insert_sink_records(conn, plan.slice.sink_records, now)


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
    """Rows upserted in key order, as pg_bulk writes them (see there for why)."""
    return (m.project_id, m.group_type, m.group_key, m.distinct_id)


def _insert_edges(conn: Connection, edges: Sequence[tuple[str, MergeEdge]]) -> None:
    rows = [
        {
            "project_id": project_id,
            "uuid": edge.uuid,
            "ts_us": to_us(edge.timestamp),
            "kind": edge.kind,
            "distinct_id": edge.distinct_id,
            "other_id": edge.other_id,
        }
        for project_id, edge in edges
    ]
    if rows:
        conn.execute(insert_for(conn, identity_edges).on_conflict_do_nothing(), rows)


def set_person_keys(conn: Connection, keys: Iterable[PersonKey]) -> None:
    rows = [{"p": k.project_id, "d": k.distinct_id, "k": k.key} for k in keys]
    if rows:
        conn.execute(_SET_PERSON_KEY, rows)


_SET_PERSON_KEY = (
    update(persons)
    .where(persons.c.project_id == bindparam("p"), persons.c.distinct_id == bindparam("d"))
    .values(person_key=bindparam("k"))
)


def recompute_identity(conn: Connection, project_id: str, start_ids: set[str]) -> None:
    """Re-resolve the identity components touching `start_ids` from all their stored edges."""
    ids, edges = _component(conn, project_id, start_ids)
    keys = resolve(edges, seen_ids=ids).items()
    set_person_keys(conn, (PersonKey(project_id=project_id, distinct_id=d, key=k) for d, k in keys))


def _stored_components(
    conn: Connection, edges: Iterable[tuple[str, MergeEdge]]
) -> list[tuple[str, MergeEdge]]:
    """The stored edges of every component these edges touch."""
    starts: dict[str, set[str]] = {}
    for project_id, edge in edges:
        starts.setdefault(project_id, set()).update((edge.distinct_id, edge.other_id))
    return [
        (project_id, edge)
        for project_id, start in starts.items()
        for edge in _component(conn, project_id, start)[1]
    ]


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
