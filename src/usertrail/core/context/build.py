"""Assemble the context object from a person's stored data. Pure: `now` is an argument."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

import msgspec

from usertrail.core.context.account import person_accounts
from usertrail.core.context.budget import fit_to_budget
from usertrail.core.context.fill import fill_markdown
from usertrail.core.context.render import render_markdown
from usertrail.core.context.safe import quote_fragments, safe, safe_id
from usertrail.core.context.snapshot import snapshot, summarize
from usertrail.core.context.untrusted import Trusted, event_label, evidence_fragments
from usertrail.core.patterns import PatternInput, detect_patterns
from usertrail.core.recommendations import recommend
from usertrail.core.sessions import sessions, span
from usertrail.core.text import ordinal
from usertrail.model.config import ProjectConfig
from usertrail.model.context import ContextEvent, Pattern, Recommendation, UserContext, UserInfo
from usertrail.model.counter import Counter
from usertrail.model.event import Event
from usertrail.model.group import GroupState
from usertrail.model.person import PersonRef
from usertrail.model.session import SessionSpan

DEFAULT_EVENTS = 20
MAX_EVENTS = 500
# A request's token budget: the bounds the context API, its cache lane and the MCP tools share.
TOKENS_MIN, TOKENS_MAX = 64, 200_000
TOKENS_PER_EVENT = 12  # fewer than any event costs: loading this many always fills a budget


class ContextOptions(msgspec.Struct, frozen=True, kw_only=True):
    n: int | None = None  # None: 20, or with max_tokens as many as the budget holds
    max_tokens: int | None = None  # budgets the answer in `format`
    mask_pii: bool = True  # the project file's `mask_pii`: the context service sets it
    format: Literal["json", "markdown"] = "json"
    include_prompt: bool = False  # JSON: also the Markdown block (the same facts twice)


def events_wanted(options: ContextOptions) -> int:
    """`n`, else enough events to fill the budget, else the default."""
    if options.n is not None:
        return options.n
    if options.max_tokens is None:
        return DEFAULT_EVENTS
    return max(DEFAULT_EVENTS, min(MAX_EVENTS, options.max_tokens // TOKENS_PER_EVENT))


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
    """The whole context; then the budget applies to what is returned: the Markdown block is
    filled up to it, or the JSON object (without the block unless asked) is cut to it."""
    full = assemble(inputs, options, now)
    if options.format == "markdown":
        return msgspec.structs.replace(full, prompt=fill_markdown(full, options.max_tokens))
    fitted = fit_to_budget(full, options.max_tokens, with_prompt=options.include_prompt)
    return msgspec.structs.replace(fitted, prompt=render_markdown(fitted))


def assemble(inputs: ContextInputs, options: ContextOptions, now: datetime) -> UserContext:
    trusted = Trusted.of(inputs.config)
    events = with_feature_ordinals(inputs.events, inputs.counters)
    current_page = next((e.page for e in reversed(events) if e.page), None)
    patterns = _patterns(inputs, now, current_page)
    span, last_events = _last_session(events, inputs.config)
    snap = snapshot(span, last_events, trusted, options.mask_pii) if span else None
    wanted = events_wanted(options)
    return UserContext(
        user=_user(inputs, options),
        recent_events=tuple(_event(e, options, trusted) for e in events[-wanted:])
        if wanted
        else (),
        last_session_summary=safe(
            summarize(snap, last_events, trusted) if snap else None,
            mask_pii=options.mask_pii,
            limit=400,
        ),
        last_session=snap,
        patterns=tuple(_safe_pattern(p, trusted, options.mask_pii) for p in patterns),
        recommendations=tuple(
            _safe_recommendation(r, patterns, trusted, options.mask_pii)
            for r in recommend(patterns, current_page)
        ),
        generated_at=now,
        truncated=False,
        accounts=person_accounts(inputs.groups, mask_pii=options.mask_pii),
    )


def _patterns(inputs: ContextInputs, now: datetime, current_page: str | None) -> list[Pattern]:
    return detect_patterns(
        PatternInput(
            counters=inputs.counters,
            now=now,
            config=inputs.config,
            current_page=current_page,
            set_sizes=inputs.set_sizes,
        )
    )


def _safe_pattern(p: Pattern, trusted: Trusted, mask_pii: bool) -> Pattern:
    summary = quote_fragments(p.summary, evidence_fragments(p, trusted))
    evidence = {
        k: safe(v, mask_pii=mask_pii, limit=200) if isinstance(v, str) else v
        for k, v in p.evidence.items()
    }
    return msgspec.structs.replace(
        p,
        # Ids of detectors that count an element or an error hold its (event-made) text.
        id=safe_id(p.id, mask_pii=mask_pii),
        summary=safe(summary, mask_pii=mask_pii, limit=240) or "",
        evidence=evidence,
    )


def _safe_recommendation(
    r: Recommendation, patterns: Sequence[Pattern], trusted: Trusted, mask_pii: bool
) -> Recommendation:
    because = next(p for p in patterns if p.id == r.because)
    message = quote_fragments(r.message, evidence_fragments(because, trusted))
    return msgspec.structs.replace(
        r,
        message=safe(message, mask_pii=mask_pii, limit=300) or "",
        because=safe_id(r.because, mask_pii=mask_pii),
    )


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


def _last_session(
    events: Sequence[Event], config: ProjectConfig
) -> tuple[SessionSpan | None, list[Event]]:
    found = sessions(events, timedelta(minutes=config.session_timeout_minutes))
    # An `$identify` sent on its own (server SDKs send it without a `$session_id`) is not a
    # session the user had: the last one with activity is.
    acted = {e.uuid for e in events if e.kind != "identify"}
    active = [(i, m) for i, m in found if any(e.uuid in acted for e in m)] or found
    if not active:
        return None, []
    # The span of the last one only: a history of many short sessions made a span of each.
    last = span(*max(active, key=lambda s: (s[1][-1].timestamp, s[0])))
    members = set(last.event_uuids)
    return last, [e for e in events if e.uuid in members]


def _user(inputs: ContextInputs, options: ContextOptions) -> UserInfo:
    mask = options.mask_pii
    props = {
        safe(str(k), mask_pii=mask, limit=60) or "": _value(v, options)
        for k, v in inputs.properties.items()
        # posthog-js's identify $set_once-s every campaign parameter, mostly as null: an
        # unknown value tells the model nothing and costs tokens.
        if not str(k).startswith("$") and v is not None
    }
    return UserInfo(
        id=safe_id(inputs.person.key, mask_pii=mask),
        distinct_ids=tuple(safe_id(d, mask_pii=mask) for d in inputs.person.distinct_ids),
        properties=dict(sorted(props.items())[:30]),
        first_seen=inputs.person.first_seen,
        last_seen=inputs.person.last_seen,
    )


def _value(value: Any, options: ContextOptions) -> Any:
    if isinstance(value, bool | int | float) or value is None:
        return value
    return safe(str(value), mask_pii=options.mask_pii)


def _event(e: Event, options: ContextOptions, trusted: Trusted) -> ContextEvent:
    mask = options.mask_pii
    return ContextEvent(
        ts=e.timestamp,
        type=e.kind,
        label=event_label(e, trusted, mask),
        page=safe(e.page, mask_pii=mask),
        path=safe(e.route or e.path, mask_pii=mask),
        component=safe(e.component, mask_pii=mask),
        element=safe(e.element, mask_pii=mask),
        session_id=safe_id(e.session_id, mask_pii=mask) if e.session_id else None,
    )
