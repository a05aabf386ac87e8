from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from usertrail.core.rate_limit import Bucket, RateLimit, full, retry_after_s, take

LIMIT = RateLimit(per_s=2.0, burst=3)


def take_n(bucket: Bucket, n: int, now: float) -> tuple[Bucket, list[float]]:
    waits = []
    for _ in range(n):
        bucket, wait = take(LIMIT, bucket, now)
        waits.append(wait)
    return bucket, waits


def test_a_fresh_bucket_allows_a_burst_then_says_how_long_to_wait() -> None:
    _, waits = take_n(full(LIMIT, 0.0), 4, now=0.0)
    assert waits == [0.0, 0.0, 0.0, 0.5]  # 2 tokens a second: the next one in half a second


def test_tokens_come_back_at_the_rate() -> None:
    bucket, _ = take_n(full(LIMIT, 0.0), 3, now=0.0)
    assert take(LIMIT, bucket, 0.25)[1] == pytest.approx(0.25)
    assert take(LIMIT, bucket, 0.5)[1] == 0.0


def test_an_idle_bucket_refills_only_up_to_the_burst() -> None:
    bucket, _ = take_n(full(LIMIT, 0.0), 3, now=0.0)
    _, waits = take_n(bucket, 4, now=3600.0)
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert waits[3] > 0


def test_a_clock_that_steps_back_refills_nothing() -> None:
    bucket, _ = take_n(full(LIMIT, 10.0), 3, now=10.0)
    assert take(LIMIT, bucket, 5.0)[1] > 0


@pytest.mark.parametrize(("wait", "header"), [(0.01, 1), (0.5, 1), (1.0, 1), (1.2, 2), (59.9, 60)])
def test_retry_after_is_whole_seconds_and_at_least_one(wait: float, header: int) -> None:
    assert retry_after_s(wait) == header


@settings(max_examples=200)
@given(st.lists(st.floats(0, 5), min_size=1, max_size=60))
def test_no_window_admits_more_than_the_burst_plus_the_rate(gaps: list[float]) -> None:
    bucket, now, admitted = full(LIMIT, 0.0), 0.0, 0
    for gap in gaps:
        now += gap
        bucket, wait = take(LIMIT, bucket, now)
        admitted += wait == 0.0
    assert admitted <= LIMIT.burst + now * LIMIT.per_s + 1e-9
