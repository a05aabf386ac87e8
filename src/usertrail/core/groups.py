"""Groups from events: which accounts an event happened in, `$groupidentify`'s properties,
and the memberships a slice implies.

PostHog puts an event's groups in `properties.$groups` ({"company": "acme"}); posthog-python's
`capture(groups=...)` sends them there too, and a raw capture body may carry a top-level
`groups`. `$groupidentify` names one group (`$group_type`, `$group_key`) and sets its
properties (`$group_set`). Group properties fold like person `$set`s (core.identity), so they
come out the same in any order; memberships are min/max spans, also order-free.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from usertrail.core.identity import apply_person_updates
from usertrail.core.posthog_events import is_activity
from usertrail.core.text import clean_text
from usertrail.model.event import Event
from usertrail.model.group import GroupUpdate, Membership
from usertrail.model.identity import PersonUpdate
from usertrail.model.raw import RawEvent

TYPE_CHARS = 64
KEY_CHARS = 200
MAX_GROUPS = 10  # PostHog allows 5 group types per project


def event_groups(
    name: str, body: dict[str, Any], props: Mapping[str, Any]
) -> tuple[tuple[str, str], ...]:
    """(type, key) pairs, sorted; values that are not a string or a number are ignored. A
    `$groupidentify` is also about the group it names (so caches of its members drop it)."""
    if "$groups" not in props and "groups" not in body and name != "$groupidentify":
        return ()  # most events: the cheap answer first (this runs for every event)
    found: dict[str, str] = {}
    for source in (body.get("groups"), props.get("$groups")):  # properties win
        if isinstance(source, dict):
            for group_type, key in list(source.items())[:MAX_GROUPS]:
                pair = _pair(group_type, key)
                if pair is not None:
                    found[pair[0]] = pair[1]
    named = _pair(props.get("$group_type"), props.get("$group_key"))
    if name == "$groupidentify" and named is not None:
        found[named[0]] = named[1]
    return tuple(sorted(found.items()))[:MAX_GROUPS]


def group_update(raw: RawEvent) -> GroupUpdate | None:
    """What a `$groupidentify` says about its group; an empty `$group_set` still names it."""
    if raw.event != "$groupidentify":
        return None
    props = raw.properties
    pair = _pair(props.get("$group_type"), props.get("$group_key"))
    if pair is None:
        return None
    values = props.get("$group_set")
    return GroupUpdate(
        uuid=raw.uuid,
        timestamp=raw.timestamp,
        group_type=pair[0],
        group_key=pair[1],
        distinct_id=raw.distinct_id,
        set={str(k): v for k, v in values.items()} if isinstance(values, dict) else {},
    )


def group_properties(updates: Iterable[GroupUpdate]) -> dict[str, Any]:
    """The group's properties: the latest write of each key, in (timestamp, uuid) order."""
    return apply_person_updates(
        PersonUpdate(uuid=u.uuid, timestamp=u.timestamp, set=u.set) for u in updates
    )


def memberships(events: Iterable[Event]) -> list[Membership]:
    """First and last activity of each (id, group) among `events`: only activity counts, so a
    `$groupidentify` sent under a made-up id makes nobody a member."""
    spans: dict[tuple[str, str, str, str], Membership] = {}
    for e in events:
        if not is_activity(e.kind):
            continue
        for group_type, key in e.groups:
            slot = (e.project_id, e.distinct_id, group_type, key)
            old = spans.get(slot)
            first = min(old.first, e.timestamp) if old else e.timestamp
            last = max(old.last, e.timestamp) if old else e.timestamp
            spans[slot] = Membership(
                project_id=e.project_id,
                distinct_id=e.distinct_id,
                group_type=group_type,
                group_key=key,
                first=first,
                last=last,
            )
    return list(spans.values())


def _pair(group_type: Any, key: Any) -> tuple[str, str] | None:
    if isinstance(key, int | float) and not isinstance(key, bool):
        key = str(key)
    if not isinstance(group_type, str) or not isinstance(key, str):
        return None
    kind, name = clean_text(group_type, TYPE_CHARS), clean_text(key, KEY_CHARS)
    return (kind, name) if kind and name else None
