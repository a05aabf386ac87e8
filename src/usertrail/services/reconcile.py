"""The safety net of scale-out mode: accepted events that never reached a worker (and the
bus's upkeep: trimming acknowledged entries, reporting the backlog).

PostgreSQL is the point of acceptance; the bus only carries work. Ingest acknowledges after
both the commit and the XADD, so an acknowledged event is lost to processing only if Redis
loses it afterwards (a crash inside its fsync interval, a failover, a flushed instance).
The reconciler walks the raw log behind a cursor, a grace period behind real time, and
publishes again every event that has no derived row yet. One worker does it at a time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Protocol

import structlog

from usertrail.model.raw import LoggedEvent
from usertrail.observability import Metrics
from usertrail.ports import EventBus

log = structlog.get_logger("usertrail.reconcile")


class UnprocessedLog(Protocol):
    async def unprocessed_after(
        self, seq: int, received_before: datetime, limit: int
    ) -> tuple[list[LoggedEvent], int]:
        """Among up to `limit` raw events after `seq`, in log order, stopping at the first
        received at or after `received_before`: (those without a derived row, the last seq
        examined, or `seq` if none)."""
        ...


class Cursors(Protocol):
    async def cursor(self, name: str) -> int: ...

    async def set_cursor(self, name: str, seq: int) -> None: ...


class Reconciler:
    def __init__(
        self,
        source: UnprocessedLog,
        cursors: Cursors,
        bus: EventBus,
        metrics: Metrics,
        clock: Callable[[], datetime],
        *,
        grace: timedelta,
        batch: int = 5000,
        cursor: str = "reconciler",
    ) -> None:
        self._source = source
        self._cursors = cursors
        self._bus = bus
        self._metrics = metrics
        self._clock = clock
        self._grace = grace
        self._batch = batch
        self._cursor = cursor

    async def run_once(self) -> int:
        """Walk the log up to the grace horizon; returns how many events were published."""
        republished = 0
        seq = await self._cursors.cursor(self._cursor)
        horizon = self._clock() - self._grace
        # A dead-lettered event failed every worker: publishing it again would only start
        # its failures over, round after round. It stays in the dead-letter stream, visible.
        dead = await self._bus.dead_uuids()
        self._metrics.bus_dead_letters.set(len(dead))
        while True:
            missing, last = await self._source.unprocessed_after(seq, horizon, self._batch)
            missing = [m for m in missing if (m.raw.project_id, m.raw.uuid) not in dead]
            if missing:
                await self._bus.publish([item.raw for item in missing])
                republished += len(missing)
            if last <= seq:
                break
            seq = last
            await self._cursors.set_cursor(self._cursor, seq)
        if republished:
            self._metrics.reconciled.inc(republished)
            log.warning("reconciled_lost_events", republished=republished)
        return republished

    async def run_forever(
        self, interval_s: float, leader: Callable[[], Awaitable[bool]] | None = None
    ) -> None:
        """Reconcile, trim acknowledged entries and report the backlog, every `interval_s`."""
        while True:
            try:
                if leader is None or await leader():
                    await self.run_once()
                    await self._bus.trim()
                    self._metrics.bus_backlog.set(await self._bus.backlog())
            except Exception:  # try again next round
                self._metrics.errors.labels("reconcile").inc()
                log.exception("reconcile_failed")
            await asyncio.sleep(interval_s)
