"""A per-person counter: how often, first and last time (see core.aggregates)."""

from __future__ import annotations

from datetime import datetime

import msgspec


class Counter(msgspec.Struct, frozen=True, kw_only=True):
    count: int
    first: datetime
    last: datetime

    def merged(self, other: Counter) -> Counter:
        return Counter(
            count=self.count + other.count,
            first=min(self.first, other.first),
            last=max(self.last, other.last),
        )
