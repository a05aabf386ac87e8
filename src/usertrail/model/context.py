"""The context object the chatbot receives (docs/design.md, "The context object")."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec


class UserInfo(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    distinct_ids: tuple[str, ...]
    properties: dict[str, Any]
    first_seen: datetime
    last_seen: datetime


class Account(msgspec.Struct, frozen=True, kw_only=True):
    """A PostHog group the user acted in (a company, a team), with its properties."""

    type: str  # the group type, e.g. "company"
    key: str  # the group key, e.g. "acme"
    properties: dict[str, Any]  # `$groupidentify`'s `$group_set`, folded
    first_seen: datetime | None = None  # first activity in it (of this user, or of anyone)
    last_seen: datetime | None = None


class ContextEvent(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    ts: datetime
    type: str
    label: str
    page: str | None = None
    path: str | None = None
    component: str | None = None
    element: str | None = None
    session_id: str | None = None


class SessionSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    start: datetime
    end: datetime
    duration_s: int
    event_count: int
    device: str | None
    pages: tuple[str, ...]
    key_actions: tuple[str, ...]
    errors: tuple[str, ...]


class Pattern(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    summary: str
    evidence: dict[str, Any]
    since: datetime
    last_seen: datetime
    confidence: float


class Recommendation(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    message: str
    because: str


# omit_defaults: `prompt` is left out of the JSON answer unless the caller asked for it
# (`include=prompt`), so no fact reaches the model twice by default.
class UserContext(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    user: UserInfo
    recent_events: tuple[ContextEvent, ...]
    last_session_summary: str | None
    last_session: SessionSnapshot | None
    patterns: tuple[Pattern, ...]
    recommendations: tuple[Recommendation, ...]
    generated_at: datetime | None
    truncated: bool
    prompt: str | None = None
    accounts: tuple[Account, ...] = ()  # the user's accounts, most recently active first
