"""Funnel abandonment: the first step again and again, the last step never (or not since).

"Opened Billing 4 times across 3 sessions, never completed plan selection."
"""

from __future__ import annotations

from usertrail.core.patterns.base import PatternInput
from usertrail.core.patterns.stalled_onboarding import is_onboarding
from usertrail.core.text import times
from usertrail.model.context import Pattern
from usertrail.model.counter import Counter

MIN_STARTS = 2


def detect(data: PatternInput) -> list[Pattern]:
    found = []
    for name, funnel in data.config.funnels.items():
        if len(funnel.steps) < 2 or is_onboarding(name):
            continue
        start = data.counters.get(f"funnel:{name}:0")
        done = data.counters.get(f"funnel:{name}:{len(funnel.steps) - 1}")
        if start is None or start.count < MIN_STARTS or (done and done.last >= start.last):
            continue
        found.append(_pattern(data, name, _step_label(funnel.steps[0]), start, done))
    return found


def _pattern(
    data: PatternInput, name: str, first: str, start: Counter, done: Counter | None
) -> Pattern:
    title = name.replace("_", " ")
    sessions = data.set_size(f"page_sessions:{first}") or None
    across = f" across {sessions} sessions" if sessions and sessions > 1 else ""
    outcome = f"never completed {title}" if done is None else f"has not completed {title} since"
    verb = "Opened" if not first.startswith("'") else "Started with"
    return Pattern(
        id=f"{name}_abandonment",
        summary=f"{verb} {first} {times(start.count)}{across}, {outcome}",
        evidence={
            "funnel": name,
            "first_step": first,
            "starts": start.count,
            "sessions": sessions or 0,
            "completed": done.count if done else 0,
        },
        since=start.first,
        last_seen=start.last,
        confidence=min(0.5 + 0.1 * start.count, 0.95),
    )


def _step_label(step: object) -> str:
    for attr in ("page", "event", "click"):
        value = getattr(step, attr, None)
        if value:
            return str(value) if attr == "page" else f"'{value}'"
    return "the first step"
