"""TaskDeadlines (usertrail.deadlines), the capture lane's body deadline: bounded awaits fail
with TimeoutError at their deadline as under asyncio.timeout, by one timer for all of them;
what finished in time, and a cancellation that is not the deadline's, are left as they are."""

from __future__ import annotations

import asyncio

import pytest

from usertrail.deadlines import TaskDeadlines


async def test_an_await_still_running_at_the_deadline_fails_with_timeout_error() -> None:
    deadlines = TaskDeadlines(0.05)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(TimeoutError), deadlines.bound():
        await asyncio.sleep(5)
    assert 0.04 <= loop.time() - started < 1
    assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]


async def test_a_task_that_finished_in_time_is_never_cancelled_later() -> None:
    deadlines = TaskDeadlines(0.05)
    with deadlines.bound():
        await asyncio.sleep(0)
    await asyncio.sleep(0.15)  # past the deadline, outside the bound: still running


async def outcome(deadlines: TaskDeadlines, wait: float, delay: float = 0.0) -> str:
    """After `delay`, a bound around a wait of `wait` seconds: how it ended."""
    await asyncio.sleep(delay)
    try:
        with deadlines.bound():
            await asyncio.sleep(wait)
    except TimeoutError:
        return "timed out"
    return "finished"


async def test_each_task_gets_its_own_deadline_from_when_it_began() -> None:
    deadlines = TaskDeadlines(0.1)
    results = await asyncio.gather(
        outcome(deadlines, 0.2), outcome(deadlines, 0.07, 0.06), outcome(deadlines, 0.01, 0.02)
    )
    assert list(results) == ["timed out", "finished", "finished"]


async def test_a_cancel_from_outside_stays_a_cancel() -> None:
    deadlines = TaskDeadlines(5)

    async def bounded() -> None:
        with deadlines.bound():
            await asyncio.sleep(5)

    task = asyncio.create_task(bounded())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_a_new_event_loop_gets_its_own_timer() -> None:
    deadlines = TaskDeadlines(0.05)
    assert asyncio.run(outcome(deadlines, 0)) == "finished"  # its loop ends with the timer armed
    assert asyncio.run(outcome(deadlines, 2)) == "timed out"
