"""What every detector sees and returns. A detector is a pure function of a person's counters."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

import msgspec

from usertrail.model.config import ProjectConfig
from usertrail.model.context import Pattern
from usertrail.model.counter import Counter


class PatternInput(msgspec.Struct, frozen=True, kw_only=True):
    counters: dict[str, Counter]
    now: datetime
    config: ProjectConfig
    current_page: str | None = None

    def with_prefix(self, prefix: str) -> dict[str, Counter]:
        return {k[len(prefix) :]: v for k, v in self.counters.items() if k.startswith(prefix)}

    def distinct(self, prefix: str) -> int:
        """How many counters start with `prefix` (e.g. sessions with a Billing view)."""
        return sum(1 for k in self.counters if k.startswith(prefix))

    def active_days(self) -> list[date]:
        return sorted(date.fromisoformat(k) for k in self.with_prefix("day:"))

    def events_between(self, start: date, end: date) -> int:
        days = self.with_prefix("day:")
        return sum(c.count for k, c in days.items() if start <= date.fromisoformat(k) < end)


Detector = Callable[[PatternInput], list[Pattern]]


def days_between(a: datetime, b: datetime) -> int:
    return abs((b - a) // timedelta(days=1))
