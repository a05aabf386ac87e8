"""A person as the read side sees it: every distinct id merged into one key."""

from __future__ import annotations

from datetime import datetime

import msgspec

from usertrail.model.counter import Counter
from usertrail.model.event import Event
from usertrail.model.group import GroupState
from usertrail.model.identity import PersonUpdate


class PersonRef(msgspec.Struct, frozen=True, kw_only=True):
    project_id: str
    key: str
    distinct_ids: tuple[str, ...]
    first_seen: datetime
    last_seen: datetime


class PersonData(msgspec.Struct, frozen=True, kw_only=True):
    """What the read side loads for one person: recent events, property updates, counters."""

    person: PersonRef
    events: tuple[Event, ...]  # most recent, chronological
    updates: tuple[PersonUpdate, ...]
    counters: tuple[tuple[str, Counter], ...]
    set_sizes: tuple[tuple[str, int], ...] = ()  # distinct-count sets, e.g. sessions per page
    groups: tuple[GroupState, ...] = ()  # the accounts the person acted in, latest first
