"""Identity as PostHog does it, made independent of arrival order.

PostHog merges the person of `$anon_distinct_id` into the person of the `$identify` distinct id
(likewise `$create_alias`), refuses when the absorbed person is already identified (except for
`$merge_dangerously`), and never merges blocklisted ids. Those rules depend on order, so here
they are applied to a component's edges sorted by (timestamp, uuid): whatever order the edges
arrived in, and however often, the result is the one a clean chronological pass gives.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from usertrail.model.identity import MergeEdge, PersonUpdate
from usertrail.model.raw import RawEvent

# PostHog's isDistinctIdIllegal: case-insensitive words, and case-sensitive values.
_ILLEGAL_WORDS = frozenset(
    (
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
)
_ILLEGAL_VALUES = frozenset(("[object Object]", "NaN", "None", "none", "null", "0"))
_EDGE_KINDS = {
    "$identify": "identify",
    "$create_alias": "alias",
    "$merge_dangerously": "merge_dangerously",
}


def is_illegal_id(distinct_id: str) -> bool:
    stripped = distinct_id.strip()
    return not stripped or stripped.lower() in _ILLEGAL_WORDS or stripped in _ILLEGAL_VALUES


def merge_edge(raw: RawEvent) -> MergeEdge | None:
    kind = _EDGE_KINDS.get(raw.event)
    props = raw.body.get("properties")
    if kind is None or not isinstance(props, dict):
        return None
    other = props.get("$anon_distinct_id") if kind == "identify" else props.get("alias")
    if isinstance(other, int | float) and not isinstance(other, bool):
        other = str(other)
    if not isinstance(other, str) or not other.strip():
        return None
    return MergeEdge(
        uuid=raw.uuid,
        timestamp=raw.timestamp,
        kind=kind,
        distinct_id=raw.distinct_id,
        other_id=other.strip()[:200],
    )


class _People:
    """Union of ids into persons while replaying edges in canonical order."""

    def __init__(self) -> None:
        self.person_of: dict[str, int] = {}
        self.members: dict[int, list[str]] = {}
        self.identified: set[int] = set()
        self._next = 0

    def new(self, *ids: str) -> int:
        pid, self._next = self._next, self._next + 1
        self.members[pid] = []
        for i in ids:
            self.add(pid, i)
        return pid

    def add(self, pid: int, distinct_id: str) -> None:
        self.person_of[distinct_id] = pid
        self.members[pid].append(distinct_id)

    def absorb(self, into: int, other: int) -> None:
        for i in self.members.pop(other):
            self.add(into, i)
        if other in self.identified:
            self.identified.discard(other)
            self.identified.add(into)


def _apply(people: _People, edge: MergeEdge) -> None:
    target, other = edge.distinct_id, edge.other_id
    if is_illegal_id(target) or is_illegal_id(other):
        return
    into = people.person_of.get(target)
    absorbed = people.person_of.get(other)
    if into is None and absorbed is None:
        into = people.new(target, other) if target != other else people.new(target)
    elif into is None:
        assert absorbed is not None
        people.add(absorbed, target)
        into = absorbed
    elif absorbed is None:
        people.add(into, other)
    elif into != absorbed:
        if absorbed in people.identified and edge.kind != "merge_dangerously":
            return
        people.absorb(into, absorbed)
    if edge.kind == "identify" or edge.kind == "merge_dangerously":
        people.identified.add(into)


def resolve(edges: Iterable[MergeEdge], *, seen_ids: Iterable[str] = ()) -> dict[str, str]:
    """Every distinct id -> its person key. The key is the first id (in canonical order) that
    was a merge target, so a person is named by who they logged in as, and stays stable."""
    people = _People()
    for edge in sorted(set(edges), key=lambda e: (e.timestamp, e.uuid)):
        _apply(people, edge)
    mapping = {i: i for i in seen_ids}
    for ids in people.members.values():
        key = ids[0]
        mapping.update(dict.fromkeys(ids, key))
    return mapping


def person_update(raw: RawEvent) -> PersonUpdate | None:
    """`$set` / `$set_once` / `$unset`, at the top level or in properties."""
    props = raw.body.get("properties")
    props = props if isinstance(props, dict) else {}
    set_ = {**_dict(props.get("$set")), **_dict(raw.body.get("$set"))}
    once = {**_dict(props.get("$set_once")), **_dict(raw.body.get("$set_once"))}
    unset = _keys(props.get("$unset")) + _keys(raw.body.get("$unset"))
    if not (set_ or once or unset):
        return None
    return PersonUpdate(
        uuid=raw.uuid, timestamp=raw.timestamp, set=set_, set_once=once, unset=tuple(unset)
    )


def apply_person_updates(updates: Iterable[PersonUpdate]) -> dict[str, Any]:
    """Person properties: updates applied in (timestamp, uuid) order, so arrival order and
    duplicates do not matter. `$set_once` only fills keys nothing set before."""
    props: dict[str, Any] = {}
    for update in sorted(
        {u.uuid: u for u in updates}.values(), key=lambda u: (u.timestamp, u.uuid)
    ):
        for key, value in update.set_once.items():
            props.setdefault(key, value)
        props.update(update.set)
        for key in update.unset:
            props.pop(key, None)
    return props


def _dict(value: Any) -> dict[str, Any]:
    return {str(k): v for k, v in value.items()} if isinstance(value, dict) else {}


def _keys(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value if isinstance(v, str)]
    return list(_dict(value))
