"""Behaviour signals from a user's context: where they are, what they used, what failed. Pure.

Read from the same `UserContext` the chatbot gets, so retrieval sees what the prompt says.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

from usertrail.core.text import times
from usertrail.model.context import ContextEvent, Pattern, UserContext
from usertrail.retrieval.model import Signal
from usertrail.retrieval.text import terms

SIGNAL_EVENTS = 50  # how many recent events of the context the signals read
MAX_FEATURES = 3
MAX_ERRORS = 3
# Weights are shares of the boost cap (ties add up, the cap bounds the sum): what is
# happening now outweighs what happened before, and no single tie fills the cap alone.
W_PAGE = 0.5
W_ERROR_NOW = 0.5  # an error in the last session
W_ERROR_BEFORE = 0.25
W_FUNNEL = 0.35
W_STRUGGLE = 0.3
W_FEATURE = 0.25

_FEATURE_LABEL = re.compile(r"^Used feature (.+?)(?: \(\d+\w\w time\))?$")
_ERROR_PREFIX = "Hit an error: "


def behaviour_signals(ctx: UserContext) -> tuple[Signal, ...]:
    return (
        *_current_page(ctx),
        *_errors(ctx),
        *_funnels(ctx.patterns),
        *_struggles(ctx.patterns),
        *_features(ctx.recent_events),
    )


def _current_page(ctx: UserContext) -> Iterator[Signal]:
    page = next((e.page for e in reversed(ctx.recent_events) if e.page), None)
    if page:
        reason = f"matches the page the user is on: {page}"
        yield Signal(
            kind="page", value=page, terms=tuple(terms(page)), weight=W_PAGE, reason=reason
        )


def _errors(ctx: UserContext) -> Iterator[Signal]:
    # By time, not by `$session_id`: one id can hold several sessions (30 idle minutes
    # split it), and the last session is the newest, so its events are those since its start.
    start = ctx.last_session.start if ctx.last_session else None
    now: Counter[str] = Counter()
    before: Counter[str] = Counter()
    for event in ctx.recent_events:
        if event.type == "error":
            (now if start and event.ts >= start else before)[error_text(event)] += 1
    repeated = {str(p.evidence.get("error")): p for p in ctx.patterns if "repeated_error" in p.id}
    for message in _latest_first(ctx.recent_events, set(now) | set(before))[:MAX_ERRORS]:
        count, in_last = (now[message], True) if message in now else (before[message], False)
        yield error_signal(message, count, in_last, repeated.get(message))


def error_signal(message: str, count: int, in_last: bool, pattern: Pattern | None) -> Signal:
    when = "in the last session" if in_last else "recently"
    total = pattern.evidence.get("count") if pattern else None
    overall = f" ({total} times in all)" if isinstance(total, int) and total > count else ""
    return Signal(
        kind="error",
        value=message,
        terms=tuple(terms(message)),
        weight=W_ERROR_NOW if in_last else W_ERROR_BEFORE,
        reason=f"the user hit the error {message} {times(count)} {when}{overall}",
    )


def error_text(event: ContextEvent) -> str:
    """The message of an error event's label, without "Hit an error: " and " on <page>"."""
    message = event.label.removeprefix(_ERROR_PREFIX)
    suffix = f" on {event.page}" if event.page else ""
    return message.removesuffix(suffix) if suffix and message.endswith(suffix) else message


def _latest_first(events: tuple[ContextEvent, ...], messages: set[str]) -> list[str]:
    order = [error_text(e) for e in reversed(events) if e.type == "error"]
    return [m for m in dict.fromkeys(order) if m in messages]


def _funnels(patterns: tuple[Pattern, ...]) -> Iterator[Signal]:
    for p in patterns:
        funnel = p.evidence.get("funnel")
        if p.id.endswith("_abandonment") and isinstance(funnel, str):
            first = str(p.evidence.get("first_step", ""))
            yield Signal(
                kind="funnel",
                value=funnel,
                terms=tuple(terms(f"{funnel} {first}")),
                weight=W_FUNNEL,
                reason=f"the user started {funnel.replace('_', ' ')} "
                f"{times(int(p.evidence.get('starts', 0)))} without finishing it",
            )


def _struggles(patterns: tuple[Pattern, ...]) -> Iterator[Signal]:
    for p in patterns:
        if p.id.startswith(("rageclicks:", "deadclicks:")):
            element, page = str(p.evidence.get("element", "")), str(p.evidence.get("page", ""))
            verb = "rage-clicked" if p.id.startswith("rage") else "clicked with no effect on"
            where = f" on {page}" if page else ""
            yield Signal(
                kind="struggle",
                value=page or element,
                terms=tuple(terms(f"{element} {page}")),
                weight=W_STRUGGLE,
                reason=f"the user {verb} {element}{where} {times(int(p.evidence.get('count', 0)))}",
            )


def _features(events: tuple[ContextEvent, ...]) -> Iterator[Signal]:
    used = [
        m.group(1) for e in events if e.type == "feature" if (m := _FEATURE_LABEL.match(e.label))
    ]
    counts = Counter(used)
    for name in list(dict.fromkeys(reversed(used)))[:MAX_FEATURES]:
        yield Signal(
            kind="feature",
            value=name,
            terms=tuple(terms(name)),
            weight=W_FEATURE,
            reason=f"the user used {name} {times(counts[name])} recently",
        )
