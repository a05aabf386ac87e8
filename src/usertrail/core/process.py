"""One processor step as a pure function: a slice of the raw log -> the derived rows it implies.

Every output is keyed by event uuid, and every update it implies downstream is commutative
(insert-if-absent, min/max), so applying slices in any order, any number of times, converges.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

import msgspec

from usertrail.core.aggregates import counter_keys, set_members
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


class Derived(msgspec.Struct, frozen=True, kw_only=True):
    events: tuple[Event, ...]
    counter_keys: tuple[tuple[str, ...], ...]  # aligned with events: what each one counts toward
    set_members: tuple[tuple[tuple[str, str], ...], ...]  # aligned with events: (set, member)
    edges: tuple[tuple[str, MergeEdge], ...]  # (project_id, edge)
    updates: tuple[tuple[str, str, PersonUpdate], ...]  # (project_id, distinct_id, update)
    seen: tuple[SeenId, ...]
    trigger_hits: tuple[TriggerHit, ...] = ()
    trigger_checks: tuple[TriggerCheck, ...] = ()
    sink_records: tuple[SinkRecord, ...] = ()
    last_seq: int
    received: tuple[datetime, ...]  # receipt times, for the ingest -> processed lag metric
    group_updates: tuple[tuple[str, GroupUpdate], ...] = ()  # (project_id, update)
    memberships: tuple[Membership, ...] = ()


def derive(logged: Sequence[LoggedEvent], config_for: Callable[[str], ProjectConfig]) -> Derived:
    events, keys, members, edges, updates = [], [], [], [], []
    groups: list[tuple[str, GroupUpdate]] = []
    hits: list[TriggerHit] = []
    checks: list[TriggerCheck] = []
    sinks: list[SinkRecord] = []
    seen: dict[tuple[str, str], SeenId] = {}
    for item in logged:
        raw = item.raw
        config = config_for(raw.project_id)
        event = normalize(raw, config)
        events.append(event)
        keys.append(tuple(counter_keys(event, config)))
        members.append(tuple(set_members(event)))
        for hit, check in hits_and_checks(raw, config):
            hits.append(hit)
            checks.append(check)
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
        events=tuple(events),
        counter_keys=tuple(keys),
        set_members=tuple(members),
        edges=tuple(edges),
        updates=tuple(updates),
        seen=tuple(seen.values()),
        trigger_hits=tuple(hits),
        trigger_checks=tuple(checks),
        sink_records=tuple(sinks),
        last_seq=logged[-1].seq if logged else 0,
        received=tuple(item.raw.received_at for item in logged),
        group_updates=tuple(groups),
        memberships=tuple(memberships(events)),
    )


def _see(
    seen: dict[tuple[str, str], SeenId], project_id: str, distinct_id: str, ts: datetime
) -> None:
    key = (project_id, distinct_id)
    old = seen.get(key)
    if old is None:
        seen[key] = SeenId(project_id=project_id, distinct_id=distinct_id, first=ts, last=ts)
    else:
        seen[key] = SeenId(
            project_id=project_id,
            distinct_id=distinct_id,
            first=min(old.first, ts),
            last=max(old.last, ts),
        )
