"""A session: a run of one person's events (by `$session_id`, else by inactivity)."""

from __future__ import annotations

from datetime import datetime

import msgspec


class SessionSpan(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    start: datetime
    end: datetime
    event_uuids: tuple[str, ...]  # chronological
