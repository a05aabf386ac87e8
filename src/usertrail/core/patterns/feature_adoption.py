"""Repeated feature use and adoption milestones (1st, 5th, 10th, 25th, 50th, 100th use)."""

from __future__ import annotations

from usertrail.core.patterns.base import PatternInput
from usertrail.core.text import plural
from usertrail.model.context import Pattern

MILESTONES = (5, 10, 25, 50, 100)


def detect(data: PatternInput) -> list[Pattern]:
    found = []
    for feature, counter in sorted(data.with_prefix("feature:").items()):
        reached = [m for m in MILESTONES if counter.count >= m]
        if not reached:
            continue
        sessions = data.set_size(f"feature_sessions:{feature}")
        found.append(
            Pattern(
                id=f"feature_adoption:{feature}",
                summary=f"Regular user of {feature}: used {counter.count} times across "
                f"{plural(sessions, 'session')} (passed the {reached[-1]}-use milestone)",
                evidence={
                    "feature": feature,
                    "uses": counter.count,
                    "sessions": sessions,
                    "milestone": reached[-1],
                },
                since=counter.first,
                last_seen=counter.last,
                confidence=0.9,
            )
        )
    return found
