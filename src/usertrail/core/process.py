"""One processor step as a pure function: a slice of the raw log -> the derived rows it implies.

Every output is keyed by event uuid, and every update it implies downstream is commutative
(insert-if-absent, min/max), so applying slices in any order, any number of times, converges.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

import msgspec

from usertrail.core.aggregates import counter_keys, set_members
from usertrail.core.compiled_config import compiled
from usertrail.core.groups import group_update, memberships
from usertrail.core.identity import merge_edge, person_update
from usertrail.core.normalize import normalize
from usertrail.core.posthog_events import is_activity
from usertrail.core.sinks import sink_records
from usertrail.core.triggers import TriggerCheck, TriggerHit, hits_and_checks, merge_checks
from usertrail.model.actions import SinkRecord
from usertrail.model.config import ProjectConfig
from usertrail.model.event import Event
from usertrail.model.group import GroupUpdate, Membership
from usertrail.model.identity import MergeEdge, PersonUpdate
from usertrail.model.raw import LoggedEvent


class SeenId(msgspec.Struct, frozen=True, kw_only=True, gc=False):  # see model.event
    project_id: str
    distinct_id: str
    first: datetime
    last: datetime


class DerivedEvent(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One event of a slice and what it implies for the counters."""

    event: Event
    counter_keys: tuple[str, ...]  # what it counts toward
    set_members: tuple[tuple[str, str], ...]  # (set, member) it joins
    received: datetime  # receipt time, for the ingest -> processed lag metric


class Derived(msgspec.Struct, frozen=True, kw_only=True):
    records: tuple[DerivedEvent, ...]
    edges: tuple[tuple[str, MergeEdge], ...]  # (project_id, edge)
    updates: tuple[tuple[str, str, PersonUpdate], ...]  # (project_id, distinct_id, update)
    seen: tuple[SeenId, ...]
    trigger_hits: tuple[TriggerHit, ...] = ()
    trigger_checks: tuple[TriggerCheck, ...] = ()
    sink_records: tuple[SinkRecord, ...] = ()
    last_seq: int
    group_updates: tuple[tuple[str, GroupUpdate], ...] = ()  # (project_id, update)
    memberships: tuple[Membership, ...] = ()

    @property
    def events(self) -> tuple[Event, ...]:
        return tuple(r.event for r in self.records)


def derive(logged: Sequence[LoggedEvent], config_for: Callable[[str], ProjectConfig]) -> Derived:
    records, edges, updates = [], [], []
    groups: list[tuple[str, GroupUpdate]] = []
    hits: list[TriggerHit] = []
    checks: list[TriggerCheck] = []
    sinks: list[SinkRecord] = []
    seen: dict[tuple[str, str], list[datetime]] = {}  # (project, id) -> [first, last]
    for item in logged:
        raw = item.raw
        config = config_for(raw.project_id)
        known = compiled(config)
        event = normalize(raw, config)
        records.append(
            DerivedEvent(
                event=event,
                counter_keys=tuple(counter_keys(event, config)),
                set_members=tuple(set_members(event)),
                received=raw.received_at,
            )
        )
        # Most events feed no trigger and no sink: one lookup says so.
        if raw.event in known.triggers_by_event:
            for hit, check in hits_and_checks(raw, config):
                hits.append(hit)
                checks.append(check)
        if raw.event in known.sinks_by_event:
            sinks.extend(sink_records(raw, config))
        if (edge := merge_edge(raw)) is not None:
            edges.append((raw.project_id, edge))
            checks.extend(merge_checks(raw.project_id, edge, config))
            # The absorbed id is "seen" when it is merged, so every id in an edge has a row.
            _see(seen, raw.project_id, edge.other_id, raw.timestamp)
        if (update := person_update(raw)) is not None:
            updates.append((raw.project_id, raw.distinct_id, update))
        if (changed := group_update(raw)) is not None:
            groups.append((raw.project_id, changed))
        # Only activity makes an id a person: a `$groupidentify` under a made-up id (as
        # posthog-python sends it) or a backend's `$set` must not list anyone as active.
        if is_activity(event.kind):
            _see(seen, raw.project_id, raw.distinct_id, raw.timestamp)
    return Derived(
        records=tuple(records),
        edges=tuple(edges),
        updates=tuple(updates),
        seen=tuple(
            SeenId(project_id=project_id, distinct_id=distinct_id, first=first, last=last)
            for (project_id, distinct_id), (first, last) in seen.items()
        ),
        trigger_hits=tuple(hits),
        trigger_checks=tuple(checks),
        sink_records=tuple(sinks),
        last_seq=logged[-1].seq if logged else 0,
        group_updates=tuple(groups),
        memberships=tuple(memberships(r.event for r in records)),
    )


def _see(
    seen: dict[tuple[str, str], list[datetime]], project_id: str, distinct_id: str, ts: datetime
) -> None:
    """Widen the id's [first, last] (a SeenId per id is made once, at the end of the slice)."""
    span = seen.get((project_id, distinct_id))
    if span is None:
        seen[project_id, distinct_id] = [ts, ts]
    elif ts < span[0]:  # as min() and max(): an equal time keeps the one seen first
        span[0] = ts
    elif ts > span[1]:
        span[1] = ts
