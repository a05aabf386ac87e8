"""Assemble the context object from a person's stored data. Pure: `now` is an argument."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import msgspec

from usertrail.core.context.account import person_accounts
from usertrail.core.context.budget import fit_to_budget
from usertrail.core.context.render import render_markdown
from usertrail.core.context.safe import safe
from usertrail.core.context.snapshot import snapshot, summarize
from usertrail.core.patterns import PatternInput, detect_patterns
from usertrail.core.recommendations import recommend
from usertrail.core.sessions import sessionize
from usertrail.model.config import ProjectConfig
from usertrail.model.context import ContextEvent, Pattern, UserContext, UserInfo
from usertrail.model.counter import Counter
from usertrail.model.event import Event
from usertrail.model.group import GroupState
from usertrail.model.person import PersonRef


class ContextOptions(msgspec.Struct, frozen=True, kw_only=True):
    n: int = 20
    max_tokens: int | None = None
    mask_pii: bool = True


class ContextInputs(msgspec.Struct, frozen=True, kw_only=True):
    person: PersonRef
    user_id: str  # the id the caller asked for
    properties: dict[str, Any]
    events: tuple[Event, ...]  # recent events, chronological
    counters: dict[str, Counter]
    config: ProjectConfig
    set_sizes: dict[str, int] = msgspec.field(default_factory=dict)
    groups: tuple[GroupState, ...] = ()  # the accounts the person acted in


def build_context(inputs: ContextInputs, options: ContextOptions, now: datetime) -> UserContext:
    events = with_feature_ordinals(inputs.events, inputs.counters)
    current_page = next((e.page for e in reversed(events) if e.page), None)
    patterns = _patterns(inputs, now, current_page, options)
    session_id, last_events = _last_session(events, inputs.config)
    snap = snapshot(session_id, last_events) if last_events else None
    summary = summarize(snap, last_events) if snap else None
    ctx = UserContext(
        user=_user(inputs, options),
        recent_events=tuple(_event(e, options) for e in events[-options.n :]) if options.n else (),
        last_session_summary=safe(summary, mask_pii=options.mask_pii, limit=400),
        last_session=snap,
        patterns=tuple(patterns),
        recommendations=tuple(recommend(patterns, current_page)),
        generated_at=now,
        accounts=person_accounts(inputs.groups, mask_pii=options.mask_pii),
    )
    ctx = fit_to_budget(ctx, options.max_tokens)
    return msgspec.structs.replace(ctx, prompt=render_markdown(ctx))


def _patterns(
    inputs: ContextInputs, now: datetime, current_page: str | None, options: ContextOptions
) -> list[Pattern]:
    found = detect_patterns(
        PatternInput(
            counters=inputs.counters,
            now=now,
            config=inputs.config,
            current_page=current_page,
            set_sizes=inputs.set_sizes,
        )
    )
    return [
        msgspec.structs.replace(
            p, summary=safe(p.summary, mask_pii=options.mask_pii, limit=240) or ""
        )
        for p in found
    ]


def with_feature_ordinals(
    events: Sequence[Event], counters: dict[str, Counter]
) -> tuple[Event, ...]:
    """ "Used feature Report export (5th time)": the ordinal comes from the exact per-person
    counter, counting back from the newest use (the loaded events are the most recent)."""
    remaining = {k[8:]: c.count for k, c in counters.items() if k.startswith("feature:")}
    out = list(events)
    for i in range(len(out) - 1, -1, -1):
        e = out[i]
        if e.kind == "feature" and e.feature and remaining.get(e.feature, 0) > 0:
            out[i] = msgspec.structs.replace(
                e, label=f"{e.label} ({ordinal(remaining[e.feature])} time)"
            )
            remaining[e.feature] -= 1
    return tuple(out)


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _last_session(events: Sequence[Event], config: ProjectConfig) -> tuple[str, list[Event]]:
    spans = sessionize(events, timedelta(minutes=config.session_timeout_minutes))
    if not spans:
        return "", []
    last = max(spans, key=lambda s: (s.end, s.id))
    members = set(last.event_uuids)
    return last.id, [e for e in events if e.uuid in members]


def _user(inputs: ContextInputs, options: ContextOptions) -> UserInfo:
    props = {
        safe(str(k), limit=60) or "": _value(v, options)
        for k, v in inputs.properties.items()
        # posthog-js's identify $set_once-s every campaign parameter, mostly as null: an
        # unknown value tells the model nothing and costs tokens.
        if not str(k).startswith("$") and v is not None
    }
    return UserInfo(
        id=inputs.person.key,
        distinct_ids=inputs.person.distinct_ids,
        properties=dict(sorted(props.items())[:30]),
        first_seen=inputs.person.first_seen,
        last_seen=inputs.person.last_seen,
    )


def _value(value: Any, options: ContextOptions) -> Any:
    if isinstance(value, bool | int | float) or value is None:
        return value
    return safe(str(value), mask_pii=options.mask_pii)


def _event(e: Event, options: ContextOptions) -> ContextEvent:
    mask = options.mask_pii
    return ContextEvent(
        ts=e.timestamp,
        type=e.kind,
        label=safe(e.label, mask_pii=mask, limit=200) or e.name,
        page=safe(e.page, mask_pii=mask),
        path=safe(e.route or e.path, mask_pii=mask),
        component=safe(e.component, mask_pii=mask),
        element=safe(e.element, mask_pii=mask),
        session_id=e.session_id,
    )
