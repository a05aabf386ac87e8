from __future__ import annotations

import pytest

from usertrail.core.rate_limit import RateLimit
from usertrail.errors import RateLimited
from usertrail.services.read_limits import ReadLimiter, read_limiter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_over_the_limit_a_read_is_refused_with_whole_seconds_to_wait() -> None:
    limiter = ReadLimiter(RateLimit(per_s=0.5, burst=2), Clock())
    limiter.admit("p1")
    limiter.admit("p1")
    with pytest.raises(RateLimited) as refused:
        limiter.admit("p1")
    assert refused.value.retry_after_s == 2
    assert "p1" in refused.value.detail


def test_one_project_over_its_limit_does_not_slow_another() -> None:
    limiter = ReadLimiter(RateLimit(per_s=1, burst=1), Clock())
    limiter.admit("busy")
    with pytest.raises(RateLimited):
        limiter.admit("busy")
    limiter.admit("quiet")


def test_reads_are_allowed_again_once_the_wait_has_passed() -> None:
    clock = Clock()
    limiter = ReadLimiter(RateLimit(per_s=1, burst=1), clock)
    limiter.admit("p")
    with pytest.raises(RateLimited) as refused:
        limiter.admit("p")
    clock.now += refused.value.retry_after_s
    limiter.admit("p")


def test_a_rate_of_zero_turns_the_limit_off() -> None:
    limiter = read_limiter(per_s=0, burst=1)
    for _ in range(10_000):
        limiter.admit("p")
