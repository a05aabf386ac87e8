"""Rage clicks and dead clicks on the same element."""

from __future__ import annotations

from usertrail.core.patterns.base import PatternInput
from usertrail.core.text import times
from usertrail.model.context import Pattern

MIN_REPEATS = 2
_WORDS = {"rageclick": "Rage-clicked", "deadclick": "Clicked with no effect on"}


def detect(data: PatternInput) -> list[Pattern]:
    found = []
    for kind, verb in _WORDS.items():
        for target, counter in sorted(data.with_prefix(f"{kind}:").items()):
            if counter.count < MIN_REPEATS:
                continue
            element, _, page = target.rpartition("@")
            where = f" on {page}" if page and page != "?" else ""  # "?": counted by earlier builds
            found.append(
                Pattern(
                    id=f"{kind}s:{target}",
                    summary=f"{verb} {element}{where} {times(counter.count)}",
                    evidence={"element": element, "page": where[4:], "count": counter.count},
                    since=counter.first,
                    last_seen=counter.last,
                    confidence=min(0.5 + 0.15 * counter.count, 0.95),
                )
            )
    return found
