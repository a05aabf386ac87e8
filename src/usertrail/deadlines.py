"""Deadlines kept by one timer for all the things watched, when they all wait equally long.

`asyncio.timeout` arms a timer handle per use and cancels it, through a Python context
manager: under uvloop about 29,000 instructions a use (callgrind, around an await that does
not suspend). The capture lane's body deadline on this instead took a single-event capture
from about 530,000 to 516,000 instructions (bench.instructions, one connection). Here a watch
is a deque append: as every watch lasts `timeout_s`, the oldest is always the next to
expire, and one timer, armed for the oldest, serves them all.
"""

from __future__ import annotations

import asyncio
from collections import deque
from types import TracebackType
from typing import Any, Generic, Protocol, TypeVar


class Watchable(Protocol):
    def done(self) -> bool: ...


W = TypeVar("W", bound=Watchable)


class SharedDeadlines(Generic[W]):
    """Calls `expire(item)` for each watched item not done `timeout_s` after it was watched."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._watched: deque[tuple[float, W]] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None

    def expire(self, item: W) -> None:
        raise NotImplementedError

    def _watch(self, item: W, loop: asyncio.AbstractEventLoop) -> None:
        """On `loop`, the running one."""
        if loop is not self._loop:  # a new event loop (tests, commands): the old timer is gone
            self._loop, self._watched, self._timer = loop, deque(), None
        watched = self._watched
        while watched and watched[0][1].done():  # done ones leave as new ones come
            watched.popleft()
        watched.append((loop.time() + self.timeout_s, item))
        if self._timer is None:
            self._timer = loop.call_at(watched[0][0], self._fire, loop)

    def _fire(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        if loop is not self._loop:
            return
        now, watched = loop.time(), self._watched
        while watched and (watched[0][1].done() or watched[0][0] <= now):
            item = watched.popleft()[1]
            if not item.done():
                self.expire(item)
        if watched:
            self._timer = loop.call_at(watched[0][0], self._fire, loop)


class FutureDeadlines(SharedDeadlines["asyncio.Future[Any]"]):
    """Futures failed with TimeoutError `timeout_s` after they were watched."""

    def watch(self, future: asyncio.Future[Any]) -> None:
        """On `future`'s event loop."""
        self._watch(future, future.get_loop())

    def expire(self, item: asyncio.Future[Any]) -> None:
        item.set_exception(TimeoutError())


class TaskDeadlines(SharedDeadlines["Bound"]):
    """`with deadlines.bound():` around a task's awaits raises TimeoutError when they have not
    finished `timeout_s` after it began, as `async with asyncio.timeout(timeout_s)` does."""

    def bound(self) -> Bound:
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("TaskDeadlines.bound() outside a task")
        bound = Bound(task)
        self._watch(bound, task.get_loop())
        return bound

    def expire(self, item: Bound) -> None:
        item.expire()


class Bound:
    """One task's bounded awaits (TaskDeadlines.bound): cancelled at the deadline, and that
    cancellation turned into TimeoutError on the way out, the way asyncio.Timeout does it."""

    __slots__ = ("_cancelling", "_expired", "_left", "_task")

    def __init__(self, task: asyncio.Task[Any]) -> None:
        self._task = task
        self._cancelling = task.cancelling()
        self._expired = self._left = False

    def done(self) -> bool:
        return self._left

    def expire(self) -> None:
        self._expired = True
        self._task.cancel()

    def __enter__(self) -> Bound:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        _: TracebackType | None,
    ) -> None:
        self._left = True
        # Ours to undo once expired; the cancel was ours (not an outer one's as well) when
        # uncancel() gets back to where it began.
        expired = self._expired and self._task.uncancel() <= self._cancelling
        if expired and exc_type is asyncio.CancelledError:
            raise TimeoutError from exc
