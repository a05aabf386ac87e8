"""Activity over time: returning after a long absence, and declining activity."""

from __future__ import annotations

from datetime import timedelta

from usertrail.core.patterns.base import PatternInput
from usertrail.model.context import Pattern

ABSENCE_DAYS = 14
RECENT_DAYS = 7
BASELINE_WEEKS = 3
MIN_BASELINE_PER_WEEK = 20


def detect(data: PatternInput) -> list[Pattern]:
    return [p for p in (_returning(data), _declining(data)) if p is not None]


def _returning(data: PatternInput) -> Pattern | None:
    days = data.active_days()
    if len(days) < 2 or (data.now.date() - days[-1]).days > 1:
        return None
    gap = (days[-1] - days[-2]).days
    if gap < ABSENCE_DAYS:
        return None
    last = data.counters[f"day:{days[-1].isoformat()}"]
    return Pattern(
        id="returning_after_absence",
        summary=f"Returned after {gap} days away (previously active {days[-2].isoformat()})",
        evidence={"days_away": gap, "previous_active_day": days[-2].isoformat()},
        since=last.first,
        last_seen=last.last,
        confidence=0.95,
    )


def _declining(data: PatternInput) -> Pattern | None:
    today = data.now.date() + timedelta(days=1)
    recent_start = today - timedelta(days=RECENT_DAYS)
    baseline_start = recent_start - timedelta(weeks=BASELINE_WEEKS)
    recent = data.events_between(recent_start, today)
    weekly = data.events_between(baseline_start, recent_start) / BASELINE_WEEKS
    if weekly < MIN_BASELINE_PER_WEEK or recent >= weekly / 2:
        return None
    return Pattern(
        id="declining_activity",
        summary=f"Activity dropped: {recent} events in the last {RECENT_DAYS} days, "
        f"down from about {round(weekly)} a week before",
        evidence={"recent_events": recent, "weekly_baseline": round(weekly, 1)},
        since=data.now - timedelta(days=RECENT_DAYS),
        last_seen=data.now,
        confidence=min(0.5 + (1 - recent / weekly) / 2, 0.95),
    )
