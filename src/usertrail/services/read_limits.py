"""Per-project read rate limits: one token bucket per project, in this process.

Keyed by the project the API key resolves to, so one tenant's traffic cannot use up another's
reads. The buckets live in memory: with K context processes behind a load balancer the
effective limit is K times the setting, unless the buckets move to a shared store (Redis).
Capture is never limited here: the browser SDK drops batches answered 429.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from usertrail.core.rate_limit import Bucket, RateLimit, full, retry_after_s, take
from usertrail.errors import RateLimited


class ReadLimiter:
    def __init__(self, limit: RateLimit | None, clock: Callable[[], float] = time.monotonic):
        self._limit = limit  # None: unlimited
        self._clock = clock
        self._buckets: dict[str, Bucket] = {}

    def admit(self, project_id: str) -> None:
        """Take one read from the project's bucket, or raise RateLimited (429)."""
        if self._limit is None:
            return
        now = self._clock()
        bucket = self._buckets.get(project_id) or full(self._limit, now)
        self._buckets[project_id], wait = take(self._limit, bucket, now)
        if wait > 0:
            raise RateLimited(
                f"project {project_id!r} is over its read limit of {self._limit.per_s:g}/s "
                f"(burst {self._limit.burst})",
                retry_after_s(wait),
            )


def read_limiter(per_s: float, burst: int) -> ReadLimiter:
    """From settings: a rate of 0 turns the limit off."""
    return ReadLimiter(RateLimit(per_s=per_s, burst=burst) if per_s > 0 else None)
