"""Append sink lines (e.g. training_data.jsonl) in the order the processor recorded them.

Off the request path: the processor records lines in its transaction; this loop appends them
to their files and then marks them written. A crash between the two is repaired at start:
a file's last line names its event, and everything up to it is marked written, so no line is
written twice and none is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from itertools import groupby
from pathlib import Path
from typing import Protocol

import orjson
import structlog

from usertrail.model.actions import PendingLine
from usertrail.observability import Metrics
from usertrail.ports import SinkFile

log = structlog.get_logger("usertrail.sinks")


class LineQueue(Protocol):
    async def pending_lines(self, limit: int) -> list[PendingLine]: ...

    async def lines_written(self, ids: Sequence[int]) -> None: ...

    async def written_through(self, path: str, uuid: str) -> int: ...


class PurgeQueue(Protocol):
    """Lines of erased persons to cut from their files (services.privacy)."""

    async def purge_jobs(self, limit: int) -> list[PendingLine]: ...

    async def purged(self, ids: Sequence[int]) -> None: ...


class SinkWriter:
    def __init__(
        self,
        queue: LineQueue,
        open_file: Callable[[Path], SinkFile],
        data_dir: Path,
        metrics: Metrics,
        *,
        batch: int = 1000,
        purges: PurgeQueue | None = None,
    ) -> None:
        self._queue = queue
        self._purges = purges
        self._open_file = open_file
        self._data_dir = data_dir
        self._metrics = metrics
        self._batch = batch
        self._files: dict[str, SinkFile] = {}
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run_forever(
        self, idle_poll: float = 1.0, leader: Callable[[], Awaitable[bool]] | None = None
    ) -> None:
        """Write pending lines whenever woken; with `leader`, only while it says this process
        is the one writer (several workers share the sink files)."""
        while True:
            try:
                if leader is None or await leader():
                    while await self.write_pending() == self._batch:
                        pass
                    while await self.purge_pending() == self._batch:
                        pass
                else:
                    self._files.clear()  # reopened (with crash recovery) if we lead again
            except Exception:  # the lines stay pending and are tried again
                self._metrics.errors.labels("sinks").inc()
                log.exception("sink_write_failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=idle_poll)
            self._wake.clear()

    async def write_pending(self) -> int:
        """Append the oldest pending lines; returns how many were pending."""
        pending = await self._queue.pending_lines(self._batch)
        unopened = {line.path for line in pending} - self._files.keys()
        if unopened and sum([await self._open(path) for path in sorted(unopened)]):
            pending = await self._queue.pending_lines(self._batch)  # some were already written
        for path, group in groupby(pending, key=lambda line: line.path):
            lines = list(group)
            sink_file = self._files[path]
            await asyncio.to_thread(sink_file.append, [line.line for line in lines])
            await self._queue.lines_written([line.id for line in lines])
            self._metrics.sink_lines.labels("written").inc(len(lines))
        return len(pending)

    async def purge_pending(self) -> int:
        """Cut erased persons' lines from their files, after any append of them (this runs
        between appends, in the one writer); returns how many were queued."""
        jobs = await self._purges.purge_jobs(self._batch) if self._purges else []
        for path, group in groupby(sorted(jobs, key=lambda j: j.path), key=lambda j: j.path):
            if path not in self._files:
                await self._open(path)
            uuids = {job.uuid for job in group}
            removed = await asyncio.to_thread(self._files[path].remove, uuids)
            self._metrics.sink_lines.labels("purged").inc(removed)
        if jobs and self._purges:
            await self._purges.purged([job.id for job in jobs])
        return len(jobs)

    async def _open(self, path: str) -> int:
        """Open a sink file, marking lines a crash left written but unmarked; returns how many."""
        sink_file = await asyncio.to_thread(self._open_file, self._data_dir / path)
        self._files[path] = sink_file
        last = await asyncio.to_thread(sink_file.last_line)
        uuid = _uuid_of(last) if last is not None else None
        marked = await self._queue.written_through(path, uuid) if uuid else 0
        if marked:
            log.info("sink_recovered", path=path, marked_written=marked)
        return marked


def _uuid_of(line: bytes) -> str | None:
    try:
        value = orjson.loads(line).get("uuid")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    return value if isinstance(value, str) else None
