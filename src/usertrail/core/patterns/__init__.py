"""Pattern detectors, one module each, all listed here. Each is pure: counters in, patterns out."""

from __future__ import annotations

from usertrail.core.patterns import (
    activity,
    feature_adoption,
    feature_dropped,
    frustration,
    funnel_abandonment,
    repeated_errors,
    slow_pages,
    stalled_onboarding,
)
from usertrail.core.patterns.base import Detector, PatternInput
from usertrail.model.context import Pattern

__all__ = ["DETECTORS", "PatternInput", "detect_patterns"]

DETECTORS: tuple[Detector, ...] = (
    funnel_abandonment.detect,
    stalled_onboarding.detect,
    repeated_errors.detect,
    frustration.detect,
    slow_pages.detect,
    feature_adoption.detect,
    feature_dropped.detect,
    activity.detect,
)


def detect_patterns(data: PatternInput) -> list[Pattern]:
    """Every detector's hits, most confident and most recent first."""
    found = [p for detector in DETECTORS for p in detector(data)]
    return sorted(found, key=lambda p: (-p.confidence, -p.last_seen.timestamp(), p.id))
