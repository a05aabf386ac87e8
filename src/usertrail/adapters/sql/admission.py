"""Admission control for the raw log: a bounded number of appends wait for the writer, each
for a bounded time.

When the writer cannot commit (a held lock, a slow disk), an unbounded queue turns every
capture request into a hang and every queued body into memory. Past the bound, an append is
refused at once (Overloaded: 503 + Retry-After), which the SDKs retry later.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from typing import Any

from usertrail.errors import Overloaded


class Slot:
    """One admitted append, released by the writer thread once the job has committed or
    failed (release is idempotent, so a second call cannot free another request's slot)."""

    __slots__ = ("_gate", "_released")

    def __init__(self, gate: PendingGate) -> None:
        self._gate = gate
        self._released = False

    def release(self) -> None:
        with self._gate.lock:
            if not self._released:
                self._released = True
                self._gate.pending -= 1


class PendingGate:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.pending = 0
        self.lock = threading.Lock()

    def admit(self) -> Slot:
        """A slot, or Overloaded when `limit` appends are already waiting."""
        with self.lock:
            if self.pending >= self.limit:
                raise Overloaded(
                    f"{self.pending} capture requests are already waiting for storage; "
                    "retry shortly"
                )
            self.pending += 1
        return Slot(self)


class Deadlines:
    """Futures failed with TimeoutError `timeout_s` after they were watched, by one timer for
    all of them: `asyncio.timeout` arms and cancels a timer handle per request, about 7% of a
    single-event capture's event-loop time (cProfile of the capture lane). All wait equally
    long, so the oldest watched is always the next to expire."""

    def __init__(self, timeout_s: float) -> None:
        self._timeout_s = timeout_s
        self._watched: deque[tuple[float, asyncio.Future[Any]]] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None

    def watch(self, future: asyncio.Future[Any]) -> None:
        """On `future`'s event loop."""
        loop = future.get_loop()
        if loop is not self._loop:  # a new event loop (tests, commands): the old timer is gone
            self._loop, self._watched, self._timer = loop, deque(), None
        watched = self._watched
        while watched and watched[0][1].done():  # settled ones leave as new ones come
            watched.popleft()
        watched.append((loop.time() + self._timeout_s, future))
        if self._timer is None:
            self._timer = loop.call_at(watched[0][0], self._expire, loop)

    def _expire(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        if loop is not self._loop:
            return
        now, watched = loop.time(), self._watched
        while watched and (watched[0][1].done() or watched[0][0] <= now):
            future = watched.popleft()[1]
            if not future.done():
                future.set_exception(TimeoutError())
        if watched:
            self._timer = loop.call_at(watched[0][0], self._expire, loop)
