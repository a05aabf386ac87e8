"""FutureDeadlines (usertrail.deadlines), as the raw log's appends use them: what waits for the
writer fails with TimeoutError once its time is up, by one timer for all the waits, and nothing
settled is touched."""

from __future__ import annotations

import asyncio

import pytest

from usertrail.deadlines import FutureDeadlines


async def test_an_unsettled_wait_fails_when_its_time_is_up_and_a_settled_one_keeps_its_result() -> (
    None
):
    deadlines = FutureDeadlines(0.05)
    loop = asyncio.get_running_loop()
    settled, stuck = loop.create_future(), loop.create_future()
    deadlines.watch(settled)
    deadlines.watch(stuck)
    settled.set_result(1)
    started = loop.time()
    with pytest.raises(TimeoutError):
        await stuck
    assert 0.04 <= loop.time() - started < 1
    assert settled.result() == 1


async def test_waits_watched_later_expire_later_each_after_its_own_timeout() -> None:
    deadlines = FutureDeadlines(0.1)
    loop = asyncio.get_running_loop()
    first = loop.create_future()
    deadlines.watch(first)
    await asyncio.sleep(0.06)
    second = loop.create_future()
    deadlines.watch(second)
    with pytest.raises(TimeoutError):
        await first
    assert not second.done()  # 0.1 s after it was watched, not with the first
    with pytest.raises(TimeoutError):
        await second


def test_a_new_event_loop_gets_its_own_timer() -> None:
    deadlines = FutureDeadlines(0.05)

    async def settle_at_once() -> None:  # the loop ends with this wait's timer still armed
        future = asyncio.get_running_loop().create_future()
        deadlines.watch(future)
        future.set_result(None)

    async def wait() -> str:
        future = asyncio.get_running_loop().create_future()
        deadlines.watch(future)
        done, _ = await asyncio.wait([future], timeout=2)
        return "failed" if done and isinstance(future.exception(), TimeoutError) else "hung"

    asyncio.run(settle_at_once())
    assert asyncio.run(wait()) == "failed"
