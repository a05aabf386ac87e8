"""Keyword factories for context objects and events, built by hand for the pure context tests."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import msgspec

from tests.factories import T0
from usertrail.model.context import (
    ContextEvent,
    Pattern,
    Recommendation,
    SessionSnapshot,
    UserContext,
    UserInfo,
)
from usertrail.model.event import Event


def user_context(
    *,
    events: int = 0,
    patterns: tuple[Pattern, ...] = (),
    recommendations: tuple[Recommendation, ...] = (),
    key_actions: tuple[str, ...] = (),
    properties: dict[str, Any] | None = None,
) -> UserContext:
    return UserContext(
        user=UserInfo(
            id="user_42",
            distinct_ids=("user_42",),
            properties=properties or {},
            first_seen=T0,
            last_seen=T0,
        ),
        recent_events=tuple(context_event(i) for i in range(events)),
        last_session_summary=None,
        last_session=session_snapshot(key_actions) if key_actions else None,
        patterns=patterns,
        recommendations=recommendations,
        generated_at=T0,
        truncated=False,
    )


def context_event(i: int, label: str | None = None) -> ContextEvent:
    """Event `i`, `i` minutes after T0, with every field a full event carries."""
    return ContextEvent(
        ts=T0 + timedelta(minutes=i),
        type="click",
        label=label or f"Clicked 'Export report number {i}' button in Reports toolbar",
        page="Reports",
        path=f"/projects/{i}/reports/quarterly-revenue-by-region",
        component="Reports toolbar",
        element=f"button 'Export report number {i}'",
        session_id="s_1",
    )


def session_snapshot(key_actions: tuple[str, ...]) -> SessionSnapshot:
    return SessionSnapshot(
        id="s_1",
        start=T0,
        end=T0 + timedelta(minutes=5),
        duration_s=300,
        event_count=len(key_actions),
        device="desktop Chrome",
        pages=("Reports",),
        key_actions=key_actions,
        errors=(),
    )


def pattern(id: str, summary: str = "Opened Billing 4 times, never chose a plan") -> Pattern:
    return Pattern(id=id, summary=summary, evidence={}, since=T0, last_seen=T0, confidence=0.9)


def recommendation(because: str, message: str = "Offer a plan comparison") -> Recommendation:
    return Recommendation(id=f"help_{because}", message=message, because=because)


def event(kind: str = "pageview", *, minute: int = 0, **fields: Any) -> Event:
    """A normalized event with only the fields a test sets (label defaults to the kind)."""
    base = Event(
        project_id="p1",
        uuid=f"e{minute}-{kind}",
        distinct_id="user_42",
        name=kind,
        kind=kind,
        timestamp=T0 + timedelta(minutes=minute),
        label=kind,
    )
    return msgspec.structs.replace(base, **fields)
