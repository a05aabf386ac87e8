"""What every detector sees and returns. A detector is a pure function of a person's counters."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, timedelta

from usertrail.model.config import ProjectConfig
from usertrail.model.context import Pattern
from usertrail.model.counter import Counter


class PatternInput:
    """A person's counters, indexed once by kind (`feature:Export` -> kind "feature")."""

    def __init__(
        self,
        *,
        counters: dict[str, Counter],
        now: datetime,
        config: ProjectConfig,
        current_page: str | None = None,
        set_sizes: dict[str, int] | None = None,
    ) -> None:
        self.counters = counters
        self.now = now
        self.config = config
        self.current_page = current_page
        self.set_sizes = set_sizes or {}
        self._by_kind: dict[str, dict[str, Counter]] = defaultdict(dict)
        for key, counter in counters.items():
            kind, _, rest = key.partition(":")
            self._by_kind[kind][rest] = counter

    def with_prefix(self, prefix: str) -> dict[str, Counter]:
        """Counters of one kind, keyed by the rest: with_prefix("feature:") -> {"Export": ..}."""
        return self._by_kind.get(prefix.rstrip(":"), {})

    def set_size(self, key: str) -> int:
        """Distinct members of a set, e.g. set_size("page_sessions:Billing") sessions."""
        return self.set_sizes.get(key, 0)

    def active_days(self) -> list[date]:
        return sorted(date.fromisoformat(k) for k in self.with_prefix("day:"))

    def events_between(self, start: date, end: date) -> int:
        days = self.with_prefix("day:")
        return sum(c.count for k, c in days.items() if start <= date.fromisoformat(k) < end)


Detector = Callable[[PatternInput], list[Pattern]]


def days_between(a: datetime, b: datetime) -> int:
    return abs((b - a) // timedelta(days=1))
