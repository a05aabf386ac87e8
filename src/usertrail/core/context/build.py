"""Assemble the context object from a person's stored data. Pure: `now` is an argument."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec

from usertrail.core.context.budget import fit_to_budget
from usertrail.core.context.render import render_markdown
from usertrail.core.context.safe import safe
from usertrail.core.context.snapshot import snapshot, summarize
from usertrail.core.patterns import PatternInput, detect_patterns
from usertrail.core.recommendations import recommend
from usertrail.core.sessions import sessionize
from usertrail.model.config import ProjectConfig
from usertrail.model.context import ContextEvent, UserContext, UserInfo
from usertrail.model.event import Event
from usertrail.model.person import PersonRef
from usertrail.model.counter import Counter


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


def build_context(inputs: ContextInputs, options: ContextOptions, now: datetime) -> UserContext:
    events = inputs.events
    current_page = next((e.page for e in reversed(events) if e.page), None)
    patterns = detect_patterns(PatternInput(counters=inputs.counters, now=now, config=inputs.config,
                                            current_page=current_page))
    patterns = [msgspec.structs.replace(p, summary=safe(p.summary, mask_pii=options.mask_pii, limit=240) or "")
                for p in patterns]
    last_events = _last_session_events(events, inputs.config)
    snap = snapshot(last_events[0].session_id or "", last_events) if last_events else None
    ctx = UserContext(
        user=_user(inputs, options),
        recent_events=tuple(_event(e, options) for e in events[-options.n:]) if options.n else (),
        last_session_summary=safe(summarize(snap, last_events), mask_pii=options.mask_pii, limit=400)
        if snap else None,
        last_session=snap,
        patterns=tuple(patterns),
        recommendations=tuple(recommend(patterns, current_page)),
        generated_at=now,
    )
    ctx = fit_to_budget(ctx, options.max_tokens)
    return msgspec.structs.replace(ctx, prompt=render_markdown(ctx))


def _last_session_events(events: Sequence[Event], config: ProjectConfig) -> list[Event]:
    spans = sessionize(events)
    if not spans:
        return []
    last = max(spans, key=lambda s: s.end)
    members = set(last.event_uuids)
    return [e for e in events if e.uuid in members]


def _user(inputs: ContextInputs, options: ContextOptions) -> UserInfo:
    props = {safe(str(k), limit=60) or "": _value(v, options) for k, v in inputs.properties.items()
             if not str(k).startswith("$")}
    return UserInfo(id=inputs.person.key, distinct_ids=inputs.person.distinct_ids,
                    properties=dict(sorted(props.items())[:30]),
                    first_seen=inputs.person.first_seen, last_seen=inputs.person.last_seen)


def _value(value: Any, options: ContextOptions) -> Any:
    if isinstance(value, bool | int | float) or value is None:
        return value
    return safe(str(value), mask_pii=options.mask_pii)


def _event(e: Event, options: ContextOptions) -> ContextEvent:
    mask = options.mask_pii
    return ContextEvent(
        ts=e.timestamp, type=e.kind, label=safe(e.label, mask_pii=mask, limit=200) or e.name,
        page=safe(e.page, mask_pii=mask), path=safe(e.route or e.path, mask_pii=mask),
        component=safe(e.component, mask_pii=mask), element=safe(e.element, mask_pii=mask),
        session_id=e.session_id,
    )
