"""Settling a processed slice into the store: every rule, as pure functions of what was read.

`derive` (core.process) needs nothing stored; settling its slice does. The store takes its
per-project lock, reads `Known`, and writes the `Plan` that `settle` returns; then it reads
each checked person as now stored (`Checked`), and writes what `due` and `firings` decide.
Reads, plan and writes share one transaction and one lock, so each firing happens once.

The rules, in the order they apply:
1. Erasure (core.erasure): what an erased id may not bring back is dropped, raw row and all.
2. Only an event stored for the first time counts: one stored before, or twice in the slice,
   adds nothing to a counter or a set.
3. Identity: every component a new merge edge touches is resolved again from all its edges,
   so the person mapping is independent of arrival order.
4. Triggers, after identity (merged persons count together): one check per trigger and person,
   the newest; a threshold fires when the person's count of distinct hits reaches it and no
   firing for it exists on any of the person's ids, and only if the person matches `person`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import msgspec

from usertrail.core.erasure import Erased, screen
from usertrail.core.identity import resolve
from usertrail.core.process import Derived, DerivedEvent
from usertrail.core.triggers import (
    FiringContext,
    TriggerCheck,
    due_thresholds,
    fire,
    where_matches,
)
from usertrail.model.actions import NewFiring
from usertrail.model.identity import MergeEdge
from usertrail.model.person import PersonRef

EventKey = tuple[str, str]  # (project id, uuid)


class Known(msgspec.Struct, frozen=True, kw_only=True):
    """What the store holds that settling a slice reads."""

    erased: Erased = {}  # tombstones of the slice's ids (core.erasure)
    stored: frozenset[EventKey] = frozenset()  # the slice's events stored before
    # (project, edge): the stored edges of every identity component the slice's edges touch
    edges: tuple[tuple[str, MergeEdge], ...] = ()


# Plain tuples: a slice makes thousands, and the store writes them as rows as they are.
# (project id, distinct id, counter key, events added, first seen, last seen)
CounterDelta = tuple[str, str, str, int, datetime, datetime]
SetMember = tuple[str, str, str, str]  # (project id, distinct id, set key, member)


class Tally(msgspec.Struct, frozen=True, kw_only=True):
    """Counters and set members of some events, one delta per counter."""

    counters: tuple[CounterDelta, ...]
    members: tuple[SetMember, ...]


class PersonKey(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    project_id: str
    distinct_id: str
    key: str


class Plan(msgspec.Struct, frozen=True, kw_only=True):
    """What to write for a slice, in this order (each write idempotent), then the cursor."""

    slice: Derived  # screened: its seen ids, updates, memberships, hits and sink records
    dropped: tuple[EventKey, ...]  # raw events of erased ids, to delete
    new: tuple[DerivedEvent, ...]  # stored for the first time: the events that count
    tally: Tally  # of `new`
    edges: tuple[tuple[str, MergeEdge], ...]  # (project, edge) not stored yet
    person_keys: tuple[PersonKey, ...]  # every id of a re-resolved component
    cursor: int  # the slice's last log position


def settle(derived: Derived, known: Known, tally_all: Tally | None = None) -> Plan:
    """The plan for `derived`. `tally_all`: tally(derived.records), if the caller has it
    already (it is reused when every event is new, the common case)."""
    screened, dropped = screen(derived, known.erased)
    new = first_stored(screened.records, known.stored)
    if tally_all is None or len(new) != len(derived.records):
        tally_all = tally(new)
    edges = new_edges(screened.edges, known.edges)
    return Plan(
        slice=screened,
        dropped=_keys_of(derived.records, dropped) if dropped else (),
        new=new,
        tally=tally_all,
        edges=edges,
        person_keys=tuple(rekey(edges, known.edges)),
        cursor=derived.last_seq,
    )


def _keys_of(records: Iterable[DerivedEvent], uuids: set[str]) -> tuple[EventKey, ...]:
    return tuple((r.event.project_id, r.event.uuid) for r in records if r.event.uuid in uuids)


def first_stored(
    records: Iterable[DerivedEvent], stored: frozenset[EventKey]
) -> tuple[DerivedEvent, ...]:
    """The events not stored before, a duplicate within the slice once (rule 2)."""
    records = tuple(records)
    keys = {(r.event.project_id, r.event.uuid) for r in records}
    if len(keys) == len(records) and stored.isdisjoint(keys):
        return records  # the common case: every event new
    seen = set(stored)
    new = []
    for record in records:
        key = (record.event.project_id, record.event.uuid)
        if key not in seen:
            seen.add(key)
            new.append(record)
    return tuple(new)


def tally(records: Iterable[DerivedEvent]) -> Tally:
    """Each event adds one to each of its counters and joins each of its sets."""
    records = tuple(records)
    totals: dict[tuple[str, str, str], list[Any]] = {}
    for record in records:
        e = record.event
        ts = e.timestamp
        for key in record.counter_keys:
            slot = totals.get((e.project_id, e.distinct_id, key))
            if slot is None:
                totals[(e.project_id, e.distinct_id, key)] = [1, ts, ts]
            else:
                slot[0] += 1
                if ts < slot[1]:
                    slot[1] = ts
                elif ts > slot[2]:
                    slot[2] = ts
    joined = ((r.event, r.set_members) for r in records)
    members = {(e.project_id, e.distinct_id, k, m) for e, pairs in joined for k, m in pairs}
    return Tally(
        counters=tuple((p, d, k, c, first, last) for (p, d, k), (c, first, last) in totals.items()),
        members=tuple(sorted(members)),
    )


def new_edges(
    edges: Iterable[tuple[str, MergeEdge]], stored: Iterable[tuple[str, MergeEdge]]
) -> tuple[tuple[str, MergeEdge], ...]:
    """The slice's edges not stored yet, each once."""
    seen = {(p, e.uuid) for p, e in stored}
    new = []
    for project_id, edge in edges:
        if (project_id, edge.uuid) not in seen:
            seen.add((project_id, edge.uuid))
            new.append((project_id, edge))
    return tuple(new)


def rekey(
    new: Iterable[tuple[str, MergeEdge]], stored: Iterable[tuple[str, MergeEdge]]
) -> list[PersonKey]:
    """The person key of every id in a component that a new edge touches (rule 3)."""
    by_project: dict[str, dict[str, MergeEdge]] = {}
    starts: dict[str, set[str]] = {}
    for project_id, edge in (*stored, *new):
        by_project.setdefault(project_id, {})[edge.uuid] = edge
    for project_id, edge in new:
        starts.setdefault(project_id, set()).update((edge.distinct_id, edge.other_id))
    keys = []
    for project_id, start in starts.items():
        ids, edges = component(start, by_project[project_id].values())
        keys += [
            PersonKey(project_id=project_id, distinct_id=d, key=k)
            for d, k in resolve(edges, seen_ids=ids).items()
        ]
    return keys


def component(start: set[str], edges: Iterable[MergeEdge]) -> tuple[set[str], list[MergeEdge]]:
    """The ids linked to `start` by any of `edges`, and the edges among them."""
    ids, frontier, pending, found = set(start), set(start), list(edges), []
    while frontier:
        reached: set[str] = set()
        rest = []
        for edge in pending:
            if edge.distinct_id in frontier or edge.other_id in frontier:
                found.append(edge)
                reached.update((edge.distinct_id, edge.other_id))
            else:
                rest.append(edge)
        pending, frontier = rest, reached - ids
        ids |= reached
    return ids, found


# --- triggers: after the plan is written, over the persons as stored -----------------------


class Checked(msgspec.Struct, frozen=True, kw_only=True):
    """A trigger check with its person as stored now: its count and its fired thresholds."""

    check: TriggerCheck
    person: PersonRef
    count: int
    fired: frozenset[int]


class Due(msgspec.Struct, frozen=True, kw_only=True):
    checked: Checked
    thresholds: tuple[int, ...]


class Firing(msgspec.Struct, frozen=True, kw_only=True):
    firing: NewFiring
    count: int  # the person's count when it fired


def latest_per_person(
    checks: Iterable[tuple[TriggerCheck, PersonRef | None]],
) -> list[tuple[TriggerCheck, PersonRef]]:
    """One check per (trigger, person): the newest, so a window counts up to it. A check of
    an id that is no one's (its event is not activity) checks nothing."""
    latest: dict[tuple[str, str, str], tuple[TriggerCheck, PersonRef]] = {}
    for check, person in checks:
        if person is None:
            continue
        key = (check.project_id, check.trigger, person.key)
        if key not in latest or check.timestamp >= latest[key][0].timestamp:
            latest[key] = (check, person)
    return list(latest.values())


def due(checked: Iterable[Checked]) -> list[Due]:
    """The checks with thresholds reached and not fired yet."""
    out = []
    for c in checked:
        if thresholds := due_thresholds(c.check.spec, c.count, set(c.fired)):
            out.append(Due(checked=c, thresholds=tuple(thresholds)))
    return out


def firings(due_with: Iterable[tuple[Due, Mapping[str, Any]]], now: datetime) -> list[Firing]:
    """What fires for each due check, given the person's properties now. A person who does
    not match the trigger's `person` filter is checked again at their next matching event."""
    out = []
    for item, properties in due_with:
        c = item.checked
        if not where_matches(c.check.spec.person, properties):
            continue
        context = FiringContext(
            person_key=c.person.key,
            distinct_ids=c.person.distinct_ids,
            properties=dict(properties),
            count=c.count,
        )
        out += [
            Firing(firing=fire(c.check, threshold, context, now), count=c.count)
            for threshold in item.thresholds
        ]
    return out
