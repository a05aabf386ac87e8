"""What an erased person's ids may still do: the rules that stop late events resurrecting them.

`DELETE /persons/{id}` erases a whole person and leaves a tombstone per distinct id (its
hash and the deletion time). Each processed slice is then screened against those tombstones:

1. An event of an erased id that was *received* at or before the deletion, or that
   *happened* at or before it (event time), belongs to the erased history: in flight (in the
   bus, between ingest's clock and its commit), queued offline by an SDK, or an erased
   event sent again with its uuid (the raw row is gone, so ingest takes it as new). It is
   dropped, with everything derived from it (sink lines, trigger hits), and its raw row is
   deleted. Whatever its uuid, an event from before the erasure never comes back.
2. An event received and happened after the deletion is new data. It is stored, and its id
   starts a fresh person with no history (nothing of the old one is left to join).
3. A merge (`$identify`, `$create_alias`, `$merge_dangerously`) naming an erased id as its
   *other* id links ids again only if it happened after the deletion. A late merge from a
   live id is kept as a plain event of that id; its edge is dropped. So only a new login
   can join an erased id to a person again.

Receipt and deletion times come from the servers' clocks, event times from the skew-corrected
SDK clock. The tombstone outlives `usertrail replay` (it is not derived), so a replay applies
the same rules and reaches the same state.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import datetime

from usertrail.core.groups import memberships
from usertrail.core.posthog_events import is_activity
from usertrail.core.process import Derived, SeenId
from usertrail.model.event import Event
from usertrail.model.identity import MergeEdge

# (project id, distinct id) -> when it was erased
Erased = Mapping[tuple[str, str], datetime]


def id_hash(project_id: str, distinct_id: str) -> str:
    """What a tombstone keeps instead of the id: enough to recognise it, not to read it."""
    return hashlib.sha256(f"{project_id}\x00{distinct_id}".encode()).hexdigest()


def slice_ids(derived: Derived) -> set[tuple[str, str]]:
    """Every (project, distinct id) a slice mentions: the ids to look tombstones up for."""
    ids = {(e.project_id, e.distinct_id) for e in derived.events}
    for project_id, edge in derived.edges:
        ids.update(((project_id, edge.distinct_id), (project_id, edge.other_id)))
    return ids


def dropped_events(derived: Derived, erased: Erased) -> set[str]:
    """Uuids of events received or happened before their id was erased (rule 1)."""
    dropped = set()
    for record in derived.records:
        event = record.event
        deleted_at = erased.get((event.project_id, event.distinct_id))
        if deleted_at is not None and min(record.received, event.timestamp) <= deleted_at:
            dropped.add(event.uuid)
    return dropped


def refused_edge(project_id: str, edge: MergeEdge, erased: Erased) -> bool:
    """A merge that happened before one of its ids was erased (rule 3)."""
    for distinct_id in (edge.distinct_id, edge.other_id):
        deleted_at = erased.get((project_id, distinct_id))
        if deleted_at is not None and edge.timestamp <= deleted_at:
            return True
    return False


def screen(derived: Derived, erased: Erased) -> tuple[Derived, set[str]]:
    """The slice without what the rules drop; also the uuids of the dropped events."""
    if not erased:
        return derived, set()
    dropped = dropped_events(derived, erased)
    edges = tuple(
        (p, e) for p, e in derived.edges if e.uuid not in dropped and not refused_edge(p, e, erased)
    )
    if not dropped and len(edges) == len(derived.edges):
        return derived, set()
    records = tuple(r for r in derived.records if r.event.uuid not in dropped)
    events = [r.event for r in records]
    screened = Derived(
        records=records,
        edges=edges,
        updates=tuple(u for u in derived.updates if u[2].uuid not in dropped),
        seen=tuple(seen_ids(events, edges)),
        trigger_hits=tuple(h for h in derived.trigger_hits if h.uuid not in dropped),
        trigger_checks=tuple(c for c in derived.trigger_checks if c.event_uuid not in dropped),
        sink_records=tuple(r for r in derived.sink_records if r.uuid not in dropped),
        last_seq=derived.last_seq,
        group_updates=tuple(g for g in derived.group_updates if g[1].uuid not in dropped),
        memberships=tuple(memberships(events)),
    )
    return screened, dropped


def seen_ids(events: Iterable[Event], edges: Iterable[tuple[str, MergeEdge]]) -> list[SeenId]:
    """First and last sight of every id, as `derive` computes it: an event's id at its time,
    and the absorbed id of a merge at the merge's time."""
    sightings = [(e.project_id, e.distinct_id, e.timestamp) for e in events if is_activity(e.kind)]
    sightings += [(p, edge.other_id, edge.timestamp) for p, edge in edges]
    spans: dict[tuple[str, str], tuple[datetime, datetime]] = {}
    for project_id, distinct_id, ts in sightings:
        first, last = spans.get((project_id, distinct_id), (ts, ts))
        spans[(project_id, distinct_id)] = (min(first, ts), max(last, ts))
    return [
        SeenId(project_id=p, distinct_id=d, first=first, last=last)
        for (p, d), (first, last) in spans.items()
    ]
