"""Retention: prune events older than `USERTRAIL_RETENTION_DAYS`, now and then (core.retention).

Runs in the process that runs the processor (`serve` in embedded mode, `usertrail worker` in
scale-out; one worker at a time through a leader lock), and on demand as `usertrail prune`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime
from typing import Protocol

import msgspec
import structlog

from usertrail.core.retention import CounterKey, Member, cutoff, rebuild_counters
from usertrail.model.config import ProjectConfig
from usertrail.model.counter import Counter
from usertrail.model.event import Event, PersonId
from usertrail.observability import Metrics

log = structlog.get_logger("usertrail.retention")
Rebuild = Callable[[Iterable[Event]], tuple[dict[CounterKey, Counter], set[Member]]]


class PruneStore(Protocol):
    async def count_prunable(self, cutoff: datetime) -> int: ...

    async def prune_batch(
        self, cutoff: datetime, limit: int, rebuild: Rebuild
    ) -> tuple[int, list[PersonId]]: ...

    async def prune_deliveries(self, cutoff: datetime) -> int: ...


class Pruned(msgspec.Struct, frozen=True, kw_only=True):
    cutoff: datetime
    events: int  # raw and derived, with their property writes and trigger hits
    deliveries: int  # finished (delivered or dead) deliveries


class RetentionService:
    def __init__(
        self,
        store: PruneStore,
        config_for: Callable[[str], ProjectConfig],
        clock: Callable[[], datetime],
        forget: Callable[[Sequence[PersonId]], None],
        metrics: Metrics,
        *,
        batch: int = 1000,
    ) -> None:
        self._store = store
        self._config_for = config_for
        self._clock = clock
        self._forget = forget  # pruned persons' cached contexts are stale
        self._metrics = metrics
        self._batch = batch

    async def count(self, days: int) -> int:
        return await self._store.count_prunable(cutoff(self._clock(), days))

    async def prune(self, days: int, on_batch: Callable[[int], None] = lambda _n: None) -> Pruned:
        """Prune until nothing older than `days` is left (but the events that are kept)."""
        before = cutoff(self._clock(), days)
        deliveries = await self._store.prune_deliveries(before)
        total = 0
        while True:
            count, changed = await self._store.prune_batch(before, self._batch, self._rebuild)
            if not count:
                return Pruned(cutoff=before, events=total, deliveries=deliveries)
            total += count
            self._forget(changed)
            on_batch(count)

    def _rebuild(self, events: Iterable[Event]) -> tuple[dict[CounterKey, Counter], set[Member]]:
        return rebuild_counters(events, self._config_for)

    async def run_forever(
        self, days: int, every_s: float, leader: Callable[[], Awaitable[bool]]
    ) -> None:
        """Prune every `every_s` seconds while this process is the leader."""
        while True:
            try:
                if await leader():
                    pruned = await self.prune(days)
                    if pruned.events or pruned.deliveries:
                        log.info("retention_pruned", **msgspec.to_builtins(pruned))
            except Exception:  # tried again at the next period
                self._metrics.errors.labels("retention").inc()
                log.exception("retention_failed")
            await asyncio.sleep(every_s)
