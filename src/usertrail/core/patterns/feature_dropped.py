"""A feature discovered but never used again, while the user stayed active."""

from __future__ import annotations

from datetime import timedelta

from usertrail.core.patterns.base import PatternInput, days_between
from usertrail.model.context import Pattern

QUIET_FOR = timedelta(days=7)


def detect(data: PatternInput) -> list[Pattern]:
    last_active = max((c.last for c in data.with_prefix("day:").values()), default=None)
    if last_active is None:
        return []
    found = []
    for feature, counter in sorted(data.with_prefix("feature:").items()):
        if counter.count > 2 or last_active - counter.last < QUIET_FOR:
            continue
        tried = "once" if counter.count == 1 else "twice"
        quiet = days_between(counter.last, last_active)
        found.append(
            Pattern(
                id=f"feature_dropped:{feature}",
                summary=f"Tried {feature} {tried}, then never again in {quiet} days of activity",
                evidence={
                    "feature": feature,
                    "uses": counter.count,
                    "days_since_last_use": days_between(counter.last, data.now),
                },
                since=counter.first,
                last_seen=counter.last,
                confidence=0.7,
            )
        )
    return found
