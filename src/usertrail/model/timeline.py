"""What the dashboard shows: who is active, and a person's sessions of labelled events."""

from __future__ import annotations

from datetime import datetime

import msgspec


class ActivePerson(msgspec.Struct, frozen=True, kw_only=True):
    id: str  # the person key (the id they logged in as, or their only id)
    distinct_ids: tuple[str, ...]
    last_seen: datetime
    last_label: str | None = None
    last_page: str | None = None


class TimelineEvent(msgspec.Struct, frozen=True, kw_only=True):
    uuid: str  # the raw event behind the label: GET /ui/api/event/{uuid}
    ts: datetime
    name: str
    kind: str
    label: str
    page: str | None = None
    component: str | None = None
    element: str | None = None
    path: str | None = None


class TimelineSession(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    start: datetime
    end: datetime
    duration_s: int
    device: str | None
    pages: tuple[str, ...]
    events: tuple[TimelineEvent, ...]  # newest first
    length: str = ""  # "16 seconds": rounded as the prompt's "16-second session" is
