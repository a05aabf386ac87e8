"""One writer thread, many requests per transaction (group commit).

SQLite allows one writer at a time, and each durable commit costs an fsync. Requests hand their
rows to this thread; it drains everything queued, writes it in one transaction, commits once
and wakes every waiting request. Throughput then grows with load instead of queueing on fsync.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, Engine

T = TypeVar("T")


class _Pending(Generic[T]):
    __slots__ = ("future", "job", "loop", "on_settled", "weight")

    def __init__(
        self,
        job: Callable[[Connection], T],
        weight: int,
        loop: asyncio.AbstractEventLoop,
        on_settled: Callable[[], None] | None = None,
    ):
        self.job = job
        self.weight = weight
        self.loop = loop
        self.on_settled = on_settled
        self.future: asyncio.Future[T] = loop.create_future()


class GroupCommitWriter:
    def __init__(self, engine: Engine, *, max_weight: int = 20_000) -> None:
        self._engine = engine
        self._max_weight = max_weight
        self._queue: queue.SimpleQueue[_Pending[Any] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="usertrail-writer", daemon=True)
        self._conn: Connection | None = None  # the writer thread's, kept between groups
        self._thread.start()
        self.commits = 0

    async def submit(
        self,
        job: Callable[[Connection], T],
        weight: int = 1,
        on_settled: Callable[[], None] | None = None,
    ) -> T:
        """Run `job` inside the next group transaction; resolve after the commit.

        `on_settled` runs on the writer thread once the job has committed or failed, even
        when the caller stopped waiting."""
        return await self.enqueue(job, weight, on_settled)

    def enqueue(
        self,
        job: Callable[[Connection], T],
        weight: int = 1,
        on_settled: Callable[[], None] | None = None,
    ) -> asyncio.Future[T]:
        """As submit, the future itself: its waiter may fail it (a deadline); the writer
        leaves a future that is done alone."""
        pending = _Pending(job, weight, asyncio.get_running_loop(), on_settled)
        self._queue.put(pending)
        return pending.future

    def close(self) -> None:
        """Finish what is queued, stop the thread and close the write connections."""
        self._queue.put(None)
        self._thread.join(timeout=10)
        self._engine.dispose()

    def _run(self) -> None:
        try:
            while True:
                first = self._queue.get()
                if first is None:
                    return
                group, stop = self._drain(first)
                self._commit(group)
                if stop:
                    return
        finally:
            self._drop_connection()

    def _connection(self) -> Connection:
        """One connection for every group: checking one out of the pool and back for each
        group was a seventh of a single-event capture's GIL time (py-spy --gil)."""
        if self._conn is None:
            self._conn = self._engine.connect()
        return self._conn

    def _drop_connection(self) -> None:
        """After a failed group: the next group starts on a fresh connection."""
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None

    def _drain(self, first: _Pending[Any]) -> tuple[list[_Pending[Any]], bool]:
        group, weight = [first], first.weight
        while weight < self._max_weight:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:
                return group, True
            group.append(item)
            weight += item.weight
        return group, False

    def _commit(self, group: list[_Pending[Any]]) -> None:
        """One transaction for the whole group; if it fails, find the culprit job by job.

        No per-job savepoints: they cost two statements per request on the hot path, and a
        failing job (a bug, not bad input: input is validated before it gets here) is rare.
        """
        try:
            conn = self._connection()
            with conn.begin():
                results = [p.job(conn) for p in group]
        except Exception as exc:
            self._drop_connection()
            if len(group) == 1:
                _resolve(group[0], exc, failed=True)
            else:
                for p in group:
                    self._commit([p])
            return
        self.commits += 1
        _resolve_all(list(zip(group, results, strict=True)))


def _resolve(p: _Pending[Any], value: Any, *, failed: bool) -> None:
    if p.on_settled is not None:
        p.on_settled()

    def settle() -> None:
        if p.future.done():
            return
        if failed:
            p.future.set_exception(value)
        else:
            p.future.set_result(value)

    with contextlib.suppress(RuntimeError):  # the requester's loop is gone: nobody to wake
        p.loop.call_soon_threadsafe(settle)


def _resolve_all(settled: list[tuple[_Pending[Any], Any]]) -> None:
    """A committed group's results, with one wake-up per event loop rather than one per job
    (a group of single-event captures is dozens of jobs from one loop)."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[_Pending[Any], Any]]] = {}
    for p, value in settled:
        if p.on_settled is not None:
            p.on_settled()
        by_loop.setdefault(p.loop, []).append((p, value))
    for loop, items in by_loop.items():
        with contextlib.suppress(RuntimeError):  # the requesters' loop is gone
            loop.call_soon_threadsafe(_set_results, items)


def _set_results(items: list[tuple[_Pending[Any], Any]]) -> None:
    for p, value in items:
        if not p.future.done():
            p.future.set_result(value)
