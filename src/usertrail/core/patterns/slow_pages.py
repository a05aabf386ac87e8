"""A page that loaded slowly for the user more than once (posthog-js `$web_vitals`)."""

from __future__ import annotations

from usertrail.core.patterns.base import PatternInput
from usertrail.core.text import times
from usertrail.model.context import Pattern

MIN_REPEATS = 2


def detect(data: PatternInput) -> list[Pattern]:
    found = []
    for page, counter in sorted(data.with_prefix("slow_page:").items()):
        if counter.count < MIN_REPEATS:
            continue
        where = page or "A page"  # web vitals without a URL
        found.append(
            Pattern(
                id=f"slow_page:{page}",
                summary=f"{where} loaded slowly for them {times(counter.count)} (poor web vitals)",
                evidence={"page": page, "count": counter.count},
                since=counter.first,
                last_seen=counter.last,
                confidence=min(0.5 + 0.1 * counter.count, 0.9),
            )
        )
    return found
