"""Work done on a few threads in batches: a free thread takes its share of everything queued.

The context service's cold builds run here. With 64 clients and one SQLite builder, each
build opened its own connection and transaction and went back to the event loop on its own
(a wake-up of the loop, and a GIL hand-over, per build); taken together, a batch's reads
share one transaction and its results one hop.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeAlias, TypeVar

Job = TypeVar("Job")
Out = TypeVar("Out")
# A job's result, or what it raised: one job never fails another.
Outcome: TypeAlias = Out | Exception
Queued: TypeAlias = tuple[Job, asyncio.Future[Out]]


class Batches(Generic[Job, Out]):
    def __init__(
        self,
        run: Callable[[Sequence[Job]], Sequence[Outcome[Out]]],
        threads: int,
        most: int,
        name: str,
    ) -> None:
        """`run` takes a batch of jobs (on one of `threads` threads) and returns an outcome
        for each, in order; a batch holds at most `most` jobs."""
        self._run = run
        self._threads = threads
        self._most = most
        self._queue: deque[Queued[Job, Out]] = deque()
        self._lock = threading.Lock()
        self._idle = threads
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix=name)

    async def submit(self, job: Job) -> Out:
        """The job's result, first come first served."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Out] = loop.create_future()
        with self._lock:
            self._queue.append((job, future))
            start = self._idle > 0
            self._idle -= start
        if start:
            self._pool.submit(self._drain, loop)
        return await future

    def close(self) -> None:
        """Let the threads finish what they run, and end them."""
        self._pool.shutdown(wait=True)

    def _drain(self, loop: asyncio.AbstractEventLoop) -> None:
        """On a worker thread: batches until nothing is queued."""
        while batch := self._take():
            outcomes = self._outcomes([job for job, _ in batch])
            loop.call_soon_threadsafe(_settle, [f for _, f in batch], outcomes)

    def _take(self) -> list[Queued[Job, Out]]:
        """This thread's share of the queue (all of it with one thread), oldest first; none
        left: the thread goes idle, under the lock, so a new job always finds one awake."""
        with self._lock:
            share = -(-len(self._queue) // self._threads)
            if share == 0:
                self._idle += 1
            return [self._queue.popleft() for _ in range(min(share, self._most))]

    def _outcomes(self, jobs: Sequence[Job]) -> Sequence[Outcome[Out]]:
        try:
            return self._run(jobs)
        except Exception as exc:  # the batch's own failure (its connection): every job's
            return [exc] * len(jobs)


def _settle(futures: Sequence[asyncio.Future[Out]], outcomes: Sequence[Outcome[Out]]) -> None:
    """On the event loop: each waiting caller gets its job's outcome."""
    for future, outcome in zip(futures, outcomes, strict=True):
        if future.done():  # its caller was cancelled
            continue
        if isinstance(outcome, Exception):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)
