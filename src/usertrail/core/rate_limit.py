"""A token bucket as a value: refill by elapsed time, take one token or say how long to wait.

`now` is an argument (seconds on any monotonic clock), so the arithmetic is tested without
sleeping; the shell keeps one bucket per key.
"""

from __future__ import annotations

import math

import msgspec


class RateLimit(msgspec.Struct, frozen=True, kw_only=True):
    per_s: float  # sustained rate
    burst: int  # tokens a fresh or idle bucket holds


class Bucket(msgspec.Struct, frozen=True, kw_only=True):
    tokens: float
    at: float  # when `tokens` was counted


def full(limit: RateLimit, now: float) -> Bucket:
    return Bucket(tokens=float(limit.burst), at=now)


def take(limit: RateLimit, bucket: Bucket, now: float) -> tuple[Bucket, float]:
    """(the bucket after, seconds to wait); wait 0 means the token was taken."""
    elapsed = max(0.0, now - bucket.at)  # a clock that steps back refills nothing
    tokens = min(float(limit.burst), bucket.tokens + elapsed * limit.per_s)
    if tokens >= 1.0:
        return Bucket(tokens=tokens - 1.0, at=now), 0.0
    return Bucket(tokens=tokens, at=now), (1.0 - tokens) / limit.per_s


def retry_after_s(wait: float) -> int:
    """Retry-After is whole seconds, and 0 would invite an immediate retry: at least 1."""
    return max(1, math.ceil(wait))
