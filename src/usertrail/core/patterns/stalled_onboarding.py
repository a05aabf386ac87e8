"""Stalled onboarding: an onboarding funnel (any funnel named "*onboarding*") started a day or
more ago, not finished, and the furthest step reached."""

from __future__ import annotations

from datetime import timedelta

from usertrail.core.patterns.base import PatternInput, days_between
from usertrail.model.context import Pattern

STALLED_AFTER = timedelta(days=1)


def is_onboarding(funnel_name: str) -> bool:
    return "onboarding" in funnel_name.lower()


def detect(data: PatternInput) -> list[Pattern]:
    found = []
    for name, funnel in data.config.funnels.items():
        steps = len(funnel.steps)
        reached = [i for i in range(steps) if f"funnel:{name}:{i}" in data.counters]
        start = data.counters.get(f"funnel:{name}:0")
        if not is_onboarding(name) or start is None or steps - 1 in reached:
            continue
        if data.now - start.first < STALLED_AFTER:
            continue
        furthest = max(reached)
        title, age = name.replace("_", " "), days_between(start.first, data.now)
        found.append(
            Pattern(
                id=f"stalled_onboarding:{name}",
                summary=f"Started {title} {age} days ago and stopped after step {furthest + 1} "
                f"of {steps}",
                evidence={"funnel": name, "furthest_step": furthest + 1, "steps": steps},
                since=start.first,
                last_seen=max(data.counters[f"funnel:{name}:{i}"].last for i in reached),
                confidence=0.8,
            )
        )
    return found
