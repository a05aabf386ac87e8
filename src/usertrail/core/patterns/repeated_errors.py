"""The same error (an `$exception`, a `*_failed` event...) hit more than once."""

from __future__ import annotations

from usertrail.core.patterns.base import PatternInput
from usertrail.core.text import times
from usertrail.model.context import Pattern

MIN_REPEATS = 2


def detect(data: PatternInput) -> list[Pattern]:
    found = []
    for label, counter in sorted(data.with_prefix("error:").items()):
        if counter.count < MIN_REPEATS:
            continue
        found.append(
            Pattern(
                id=f"repeated_error:{label}",
                # The label is "Hit an error: X": "Hit the same error twice: X", said once.
                summary=f"Hit the same error {times(counter.count)}: "
                f"{label.removeprefix('Hit an error: ')}",
                evidence={"error": label, "count": counter.count},
                since=counter.first,
                last_seen=counter.last,
                confidence=0.9,
            )
        )
    return found
