"""A session: a run of one person's events (by `$session_id`, else by inactivity)."""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec

from usertrail.model.event import Device


class SessionSpan(msgspec.Struct, frozen=True, kw_only=True):
    id: str  # `$session_id`, or "d-<first event uuid>" for a split by inactivity
    distinct_ids: tuple[str, ...]  # sorted: the ids whose events it holds
    start: datetime
    end: datetime
    event_count: int
    event_uuids: tuple[str, ...]  # chronological
    pages: tuple[str, ...] = ()  # readable page names in visit order, repeats in a row collapsed
    device: Device | None = None  # of the first event that has one

    @property
    def duration(self) -> timedelta:
        return self.end - self.start
