"""Identity as PostHog does it, made independent of arrival order.

PostHog (plugin-server `person-merge-service.ts`) merges the person of the other id
(`$anon_distinct_id` of `$identify`, `alias` of `$create_alias` / `$merge_dangerously`) into the
person of the event's `distinct_id`, marks that person identified, and refuses to merge a person
that is already identified unless the event is `$merge_dangerously`. Blocklisted ids
(`isDistinctIdIllegal`) and an id merged with itself change nothing.

Those rules depend on order, so here they are replayed over edges sorted by
(timestamp, uuid): whatever order the edges arrived in, and however often, the result is the
one a clean chronological pass gives. Person properties are per-key maxima and minima of
writes, so they too come out the same in any order and can be merged incrementally.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import msgspec

from usertrail.core.ids import is_valid_id
from usertrail.model.identity import (
    SET,
    SET_ONCE,
    UNSET,
    MergeEdge,
    PersonUpdate,
    PropsState,
    PropState,
    PropWrite,
)
from usertrail.model.raw import RawEvent

# PostHog's isDistinctIdIllegal: words in any case, values in exactly this case, each also
# wrapped in single or double quotes (SDK bugs send them quoted).
_ILLEGAL_WORDS = (
    "anonymous",
    "guest",
    "distinctid",
    "distinct_id",
    "id",
    "not_authenticated",
    "email",
    "undefined",
    "true",
    "false",
)
_ILLEGAL_VALUES = ("[object Object]", "NaN", "None", "none", "null", "0", "undefined")


def _quoted(ids: tuple[str, ...]) -> frozenset[str]:
    return frozenset(ids + tuple(f"'{i}'" for i in ids) + tuple(f'"{i}"' for i in ids))


_CASE_INSENSITIVE = _quoted(_ILLEGAL_WORDS)
_CASE_SENSITIVE = _quoted(_ILLEGAL_VALUES)

# event -> (edge kind, the property naming the other id)
_EDGE_EVENTS = {
    "$identify": ("identify", "$anon_distinct_id"),
    "$create_alias": ("alias", "alias"),
    "$merge_dangerously": ("merge_dangerously", "alias"),
}
EDGE_KINDS = frozenset(kind for kind, _ in _EDGE_EVENTS.values())
# Processed outside PostHog's person pipeline, so they never touch person properties.
_NO_PERSON_UPDATE_EVENTS = frozenset(("$exception", "$$heatmap"))


def is_illegal_id(distinct_id: str) -> bool:
    """A placeholder id (`anonymous`, `null`, `0`...) that would merge strangers together."""
    return (
        not distinct_id.strip()
        or distinct_id.lower() in _CASE_INSENSITIVE
        or distinct_id in _CASE_SENSITIVE
    )


def mergeable(edge: MergeEdge) -> bool:
    """Whether PostHog would act on the edge at all: two different, legal ids."""
    return (
        edge.kind in EDGE_KINDS
        and edge.distinct_id != edge.other_id
        and not is_illegal_id(edge.distinct_id)
        and not is_illegal_id(edge.other_id)
    )


def merge_edge(raw: RawEvent) -> MergeEdge | None:
    """The merge an `$identify` / `$create_alias` / `$merge_dangerously` event asks for.

    None when PostHog would ignore it, so stored edges never join ids through a placeholder.
    """
    spec = _EDGE_EVENTS.get(raw.event)
    if spec is None:
        return None
    props = raw.properties
    if props.get("$process_person_profile") is False:
        return None  # PostHog drops merge events that opt out of person processing
    kind, other_key = spec
    other = _as_id(props.get(other_key))
    if other is None:
        return None
    edge = MergeEdge(
        uuid=raw.uuid,
        timestamp=raw.timestamp,
        kind=kind,
        distinct_id=raw.distinct_id,
        other_id=other,
    )
    return edge if mergeable(edge) else None


def _as_id(value: Any) -> str | None:
    """The other id as ingest spells distinct ids (stripped, numbers as text). One that breaks
    the id rule (core.ids: too long, a NUL...) names no one, so the merge is ignored, as
    PostHog ignores placeholder ids; the event itself is still processed."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not is_valid_id(value.strip()):
        return None
    return value.strip()


def canonical_edges(edges: Iterable[MergeEdge]) -> list[MergeEdge]:
    """Distinct edges in the one order every replay uses: (timestamp, uuid), then content."""
    return sorted(
        set(edges), key=lambda e: (e.timestamp, e.uuid, e.kind, e.distinct_id, e.other_id)
    )


class _People:
    """Persons built by replaying edges; a person is named by the id that created it.

    A person exists here only once an edge made it, and PostHog marks the target of every
    merge identified, so every person here is identified: two of them merge only by
    `$merge_dangerously`, while an id without a person simply joins one. (PostHog also has
    unidentified persons made by ordinary events; one of those as the target of a merge with
    an identified person is refused there and joins here. SDKs send `$anon_distinct_id` only
    while anonymous, so that needs a hand-made `$identify`.)
    """

    def __init__(self) -> None:
        self.person_of: dict[str, str] = {}  # distinct id -> person key
        self.members: dict[str, list[str]] = {}  # person key -> its ids, key first

    def apply(self, edge: MergeEdge) -> None:
        target, other = edge.distinct_id, edge.other_id
        into, source = self.person_of.get(target), self.person_of.get(other)
        if into is not None and source is not None:
            if into != source and edge.kind == "merge_dangerously":
                for distinct_id in self.members.pop(source):
                    self._join(into, distinct_id)
        elif into is not None:
            self._join(into, other)
        elif source is not None:
            self._join(source, target)
        else:
            self._join(target, other)

    def _join(self, key: str, distinct_id: str) -> None:
        if key not in self.members:
            self.members[key] = [key]
            self.person_of[key] = key
        self.members[key].append(distinct_id)
        self.person_of[distinct_id] = key

    def keys(self) -> dict[str, str]:
        return dict(self.person_of)


def resolve(edges: Iterable[MergeEdge], *, seen_ids: Iterable[str] = ()) -> dict[str, str]:
    """Every distinct id -> its person key (ids in no edge, from `seen_ids`, map to themselves).

    Rule: mergeable edges are replayed in canonical (timestamp, uuid) order with PostHog's
    rules. The key is the `distinct_id` of the edge that created the person (the id someone
    logged in as); a person absorbed by `$merge_dangerously` takes its absorber's key. So the
    result depends only on the set of edges, and edges in other components never change it.
    """
    people = _People()
    for edge in canonical_edges(edges):
        if mergeable(edge):
            people.apply(edge)
    mapping = {distinct_id: distinct_id for distinct_id in seen_ids}
    mapping.update(people.keys())
    return mapping


def component_of(distinct_id: str, edges: Iterable[MergeEdge]) -> set[str]:
    """Ids linked to `distinct_id` by mergeable edges: all that one new edge can re-key.

    Resolving just the edges among these ids gives these ids the keys a full `resolve` does.
    """
    neighbours: dict[str, set[str]] = {}
    for edge in filter(mergeable, edges):
        neighbours.setdefault(edge.distinct_id, set()).add(edge.other_id)
        neighbours.setdefault(edge.other_id, set()).add(edge.distinct_id)
    seen, frontier = {distinct_id}, [distinct_id]
    while frontier:
        for linked in neighbours.get(frontier.pop(), ()):
            if linked not in seen:
                seen.add(linked)
                frontier.append(linked)
    return seen


# --- person properties -------------------------------------------------------------------


def person_update(raw: RawEvent) -> PersonUpdate | None:
    """`$set` / `$set_once` / `$unset` in properties or at the top level (the top level wins,
    as PostHog's normalizeEvent has it)."""
    props = raw.properties
    body = raw.body
    if not _has_update(props) and not _has_update(body):
        return None  # most events carry none of them: the cheap answer first
    if raw.event in _NO_PERSON_UPDATE_EVENTS or props.get("$process_person_profile") is False:
        return None
    set_ = {**_dict(props.get("$set")), **_dict(body.get("$set"))}
    once = {**_dict(props.get("$set_once")), **_dict(body.get("$set_once"))}
    unset = dict.fromkeys(_keys(props.get("$unset")) + _keys(body.get("$unset")))
    if not (set_ or once or unset):
        return None
    return PersonUpdate(
        uuid=raw.uuid, timestamp=raw.timestamp, set=set_, set_once=once, unset=tuple(unset)
    )


def _has_update(values: Mapping[str, Any]) -> bool:
    """Whether `values` has `$set`, `$set_once` or `$unset` (three lookups, no generator: this
    runs for every event)."""
    return "$set" in values or "$set_once" in values or "$unset" in values


def props_state(update: PersonUpdate) -> PropsState:
    """One update as a mergeable state."""
    return fold_person_updates((update,))


def merge_props(a: PropsState, b: PropsState) -> PropsState:
    """Join two states: commutative, associative, idempotent (a semilattice)."""
    merged = dict(a)
    for key, state in b.items():
        _merge_key(merged, key, state)
    return merged


def fold_person_updates(updates: Iterable[PersonUpdate]) -> PropsState:
    """`merge_props` over every update's state, folded in place."""
    state: PropsState = {}
    for update in updates:
        for key, write in _writes(update):
            _merge_key(state, key, _single(write))
    return state


def props_values(state: PropsState) -> dict[str, Any]:
    """The person properties a state stands for, sorted by key.

    `$set` wins if it is the latest write of the key; after a later `$unset` (or with no
    write at all) the earliest `$set_once` that follows it fills the key, else it is absent.
    This is PostHog's event-by-event result replayed in (timestamp, uuid) order, except in
    one corner that a bounded state cannot see: `$set_once` both before and after the last
    `$unset`, where the latest `$set_once` stands in for the first one after the `$unset`.
    """
    values: dict[str, Any] = {}
    for key in sorted(state):
        winner = _winner(state[key])
        if winner is not None:
            values[key] = winner.value
    return values


def apply_person_updates(updates: Iterable[PersonUpdate]) -> dict[str, Any]:
    """Person properties from all their updates, in any order, duplicates included."""
    return props_values(fold_person_updates(updates))


def _writes(update: PersonUpdate) -> Iterator[tuple[str, PropWrite]]:
    def write(op: int, value: Any = None) -> PropWrite:
        return PropWrite(timestamp=update.timestamp, uuid=update.uuid, op=op, value=value)

    yield from ((key, write(SET_ONCE, value)) for key, value in update.set_once.items())
    yield from ((key, write(SET, value)) for key, value in update.set.items())
    yield from ((key, write(UNSET)) for key in update.unset)


def _single(write: PropWrite) -> PropState:
    if write.op == SET_ONCE:
        return PropState(first_once=write, last_once=write)
    return PropState(last_write=write)


def _merge_key(into: PropsState, key: str, state: PropState) -> None:
    old = into.get(key)
    if old is None:
        into[key] = state
        return
    into[key] = PropState(
        last_write=_latest(old.last_write, state.last_write),
        first_once=_earliest(old.first_once, state.first_once),
        last_once=_latest(old.last_once, state.last_once),
    )


def _winner(state: PropState) -> PropWrite | None:
    write = state.last_write
    if write is None:
        return state.first_once
    if write.op == SET:
        return write
    for once in (state.first_once, state.last_once):
        if once is not None and _after(once, write):
            return once
    return None


def _latest(a: PropWrite | None, b: PropWrite | None) -> PropWrite | None:
    if a is None or b is None:
        return a or b
    return a if _after(a, b) else b


def _earliest(a: PropWrite | None, b: PropWrite | None) -> PropWrite | None:
    if a is None or b is None:
        return a or b
    return b if _after(a, b) else a


def _after(a: PropWrite, b: PropWrite) -> bool:
    """`a` comes after `b` in canonical order. One event never writes a key twice with one op,
    so equal stamps only come from bad data; the encoded value breaks that tie, keeping merges
    commutative."""
    stamp_a, stamp_b = (a.timestamp, a.uuid, a.op), (b.timestamp, b.uuid, b.op)
    if stamp_a != stamp_b:
        return stamp_a > stamp_b
    return _encoded(a.value) > _encoded(b.value)


def _encoded(value: Any) -> bytes:
    return msgspec.json.encode(value, order="sorted")


def _dict(value: Any) -> dict[str, Any]:
    return {str(k): v for k, v in value.items()} if isinstance(value, dict) else {}


def _keys(value: Any) -> list[str]:
    """`$unset` is a list of keys, or an object whose keys are unset (PostHog takes both)."""
    if isinstance(value, list | tuple):
        return [v for v in value if isinstance(v, str)]
    return list(_dict(value))
