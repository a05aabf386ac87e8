"""Groups (PostHog's accounts: a company, a team, a workspace) and who belongs to them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from usertrail.model.counter import Counter
from usertrail.model.event import Event


class GroupUpdate(msgspec.Struct, frozen=True, kw_only=True):
    """The `$group_set` of one `$groupidentify` event: group properties, set (PostHog has no
    `$set_once` for groups)."""

    uuid: str
    timestamp: datetime
    group_type: str
    group_key: str
    distinct_id: str  # who sent it: erased with them
    set: dict[str, Any] = msgspec.field(default_factory=dict)


class Membership(msgspec.Struct, frozen=True, kw_only=True, gc=False):  # see model.event
    """A distinct id did something in a group (its events carried `$groups`), first..last."""

    project_id: str
    distinct_id: str
    group_type: str
    group_key: str
    first: datetime
    last: datetime


class GroupState(msgspec.Struct, frozen=True, kw_only=True):
    """One group as the read side loads it: its property updates and its activity span."""

    group_type: str
    group_key: str
    updates: tuple[GroupUpdate, ...] = ()
    first_seen: datetime | None = None
    last_seen: datetime | None = None


class GroupMember(msgspec.Struct, frozen=True, kw_only=True):
    """A person who did something in a group, and when they last did."""

    key: str  # the person key
    distinct_ids: tuple[str, ...]  # the ids that acted in the group
    first_seen: datetime
    last_seen: datetime


class GroupData(msgspec.Struct, frozen=True, kw_only=True):
    """What the read side loads for one group: its state, its members (most recently active
    first), their recent events in the group's project and their summed counters."""

    project_id: str
    group: GroupState
    members: tuple[GroupMember, ...]
    member_count: int
    events: tuple[Event, ...]  # the members' newest events, chronological
    counters: tuple[tuple[str, Counter], ...]  # summed by key over the members' ids
    set_sizes: tuple[tuple[str, int], ...] = ()
