"""The processor: read a feed, derive, store, and tell listeners what is new.

In embedded mode it follows the raw log in-process, woken by ingest after each commit; in
scale-out mode it reads the event bus in a worker. The derive step is pure (core.process);
storing a slice is idempotent and moves the log cursor (or precedes the bus ack), so a crash
anywhere repeats at most the uncommitted slice, which the idempotent writes absorb.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

import structlog

from usertrail.core.process import Derived, derive
from usertrail.model.config import ProjectConfig
from usertrail.model.event import Changed, Event, PersonId
from usertrail.observability import Metrics
from usertrail.ports import DerivedStore
from usertrail.services.feeds import EventFeed, Slice

log = structlog.get_logger("usertrail.processor")
Listener = Callable[[Sequence[Changed]], None]
# The most events one slice takes from a backlog (live traffic comes in far smaller slices).
# A slice is one transaction: a person's index and counter pages are written once per slice,
# so larger slices write fewer pages per event (bench.processing on SQLite, four runs each,
# measured before the writer overlapped derive: 10,700-11,300 events/s with slices of 2,000,
# 12,300-13,900 with 10,000).
SLICE_EVENTS = 10_000
# Whole-slice failures in a row before the embedded processor takes the slice apart
# (isolate): fewer would dead-letter events during a short database outage.
FAILURES_BEFORE_ISOLATING = 3
ALONE_ATTEMPTS = 3  # an event is dead only if it fails this often alone, a second apart


class NotLeading(Exception):
    """This process lost the processor lock: another may follow the log now."""


async def _always() -> bool:
    return True


class Processor:
    def __init__(
        self,
        feed: EventFeed,
        store: DerivedStore,
        config_for: Callable[[str], ProjectConfig],
        metrics: Metrics,
        *,
        batch_size: int = SLICE_EVENTS,
        overlap: bool = True,
    ) -> None:
        """`overlap`: derive a slice while the one before it is stored (see drain)."""
        self._feed = feed
        self._store = store
        self._config_for = config_for
        self._metrics = metrics
        self._batch_size = batch_size
        self._overlap = overlap
        self._wake = asyncio.Event()
        self.listeners: list[Listener] = []

    def wake(self) -> None:
        self._wake.set()

    async def run_forever(
        self, idle_poll: float = 1.0, leading: Callable[[], Awaitable[bool]] = _always
    ) -> None:
        """Process whenever woken (or every `idle_poll` s, for writers in other processes),
        until this process no longer leads: `leading`, asked before each slice is stored
        (wiring: whether it still holds the processor lock, which on PostgreSQL ends with
        its session)."""
        failures = 0
        while True:
            try:
                await self.drain(leading=leading)
                failures = 0
            except NotLeading:
                log.warning("processor_lock_lost")
                return
            except Exception:  # keep following the log; the failing slice is retried
                failures += 1
                self._metrics.errors.labels("processor").inc()
                log.exception("processor_step_failed", failures=failures)
                await asyncio.sleep(max(idle_poll, 1.0))  # a database or bus outage: no log flood
                if failures >= FAILURES_BEFORE_ISOLATING and await self._isolated():
                    failures = 0
            if self._feed.blocks:
                continue  # the feed's read waited for new events already
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=idle_poll)
            self._wake.clear()

    async def drain(
        self,
        on_batch: Callable[[int], None] = lambda _n: None,
        leading: Callable[[], Awaitable[bool]] = _always,
    ) -> int:
        """Process everything the feed has now; returns how many events.

        Pipelined: while slice k is derived, slice k+1 is read (a reader thread) and slice
        k-1 stored (the writer thread); the drivers release the GIL, so the three overlap.
        Slices commit in order (one writer), so the cursor only moves forward. Only the first
        read may wait for new events: once the feed has no more, the drain ends and the last
        slice's notices go out at once (not after a blocking read's timeout).

        Without `overlap` (embedded SQLite) derive and store take turns. Beside capture in
        all-in-one `serve`, overlapping them cost capture a quarter of its rate (measured,
        bench.capture_ab, 50-event batches: 15,486 / 19,510 events/s against 22,390 / 27,419),
        we think because a slice's store holds SQLite's one write lock, which capture waits
        for. PostgreSQL has no such lock, and there the overlap is what lets the store step
        run beside derive (bench.processing --postgres).
        """
        total = 0
        await self._feed.rewind()
        storing: tuple[Derived, Slice, asyncio.Future[list[Event]]] | None = None
        reading = asyncio.ensure_future(self._feed.read(self._batch_size, wait=True))
        try:
            while (piece := await reading).events:
                reading = asyncio.ensure_future(self._feed.read(self._batch_size, wait=False))
                if self._overlap:
                    await asyncio.sleep(0)  # the read starts now, not when derive is done
                derived = derive(piece.events, self._config_for)
                if not await leading():  # NotLeading: this slice is not stored
                    raise NotLeading
                previous = storing
                after = previous[2] if previous is not None else None
                stored = asyncio.ensure_future(self._store.apply(derived, self._feed.cursor, after))
                storing = (derived, piece, stored)
                # Let it start now: the store prepares the slice while the one before it is
                # written, and the writer takes it the moment that one commits. A task starts
                # at the loop's next turn, and awaiting a read already done gives the loop
                # none: the slice reached the writer only after the next one was derived,
                # and the two halves took turns (a processor on PostgreSQL at 9,000-13,000
                # events/s whose store alone ran at 17,000 and more).
                if self._overlap:
                    await asyncio.sleep(0)
                if previous is not None:
                    await self._finish(*previous)
                total += len(piece.events)
                on_batch(len(piece.events))
            if storing is not None:
                await self._finish(*storing)
                storing = None
        finally:
            reading.cancel()  # after a failure: the slice read ahead is read again later
            if storing is not None:  # after a failure: not written if the one before failed
                _abandon(storing[2])
        return total

    async def _isolated(self) -> bool:
        """False if isolating failed too (the database is down: nothing was dead-lettered)."""
        try:
            await self.isolate()
        except Exception:
            log.exception("processor_isolate_failed")
            return False
        return True

    async def isolate(self) -> int:
        """The embedded log's answer to a poison event: the slice that keeps failing is
        processed one event at a time, and an event that fails alone, again and again, is
        dead-lettered (listed in the store, counted in usertrail_dead_events_total, passed by
        the cursor), so one event cannot stop all that follow; after it, slices are whole
        again. The bus has its own dead letters (RedisStreamBus.reclaim). Returns how many
        events went dead (0 or 1)."""
        cursor = self._feed.cursor
        if cursor is None:
            return 0
        await self._feed.rewind()  # reads the store: fails, dead-lettering nothing, when it is down
        for _ in range(self._batch_size):
            piece = await self._feed.read(1, wait=False)
            if not piece.events:
                break
            if (error := await self._alone(piece, cursor)) is not None:
                await self._store.dead_letter(piece.events[0], error, cursor, datetime.now(UTC))
                self._metrics.dead_events.inc()
                log.error("event_dead_lettered", uuid=piece.events[0].raw.uuid, error=error)
                return 1
        return 0

    async def _alone(self, piece: Slice, cursor: str) -> str | None:
        """Process a one-event slice; the error of its last attempt if it never succeeded."""
        error = None
        for attempt in range(ALONE_ATTEMPTS):
            try:
                derived = derive(piece.events, self._config_for)
                stored = asyncio.ensure_future(self._store.apply(derived, cursor))
                await self._finish(derived, piece, stored)
                return None
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
                if attempt + 1 < ALONE_ATTEMPTS:
                    await asyncio.sleep(1.0)
        return error

    async def _finish(
        self, derived: Derived, piece: Slice, storing: asyncio.Future[list[Event]]
    ) -> None:
        new_events = await storing
        await self._feed.done(piece)
        self._observe(derived)
        self._notify([*new_events, *_reshaped(derived)] if new_events else [])

    def _observe(self, derived: Derived) -> None:
        now = datetime.now(UTC)
        self._metrics.processed.inc(len(derived.records))
        if dropped := sum(1 for record in derived.sink_records if record.line is None):
            self._metrics.sink_lines.labels("dropped").inc(dropped)
        for record in derived.records:
            self._metrics.lag_seconds.observe((now - record.received).total_seconds())

    def _notify(self, changed: Sequence[Changed]) -> None:
        if not changed:
            return
        for listener in self.listeners:
            listener(changed)


def _abandon(task: asyncio.Future[list[Event]]) -> None:
    """Stop waiting for a slice's store; its error, if any, is the one already raised."""
    if task.done():
        if not task.cancelled():
            task.exception()  # retrieved: asyncio logs no "never retrieved"
    else:
        task.cancel()


def _reshaped(derived: Derived) -> list[PersonId]:
    """Ids whose person changed beyond their new events: a merge changes the person behind
    both ids, though only one of them sent an event (a context cached under the other id is
    stale too); a person update changes properties, which a cached context cannot follow
    event by event (see core.context.advance)."""
    merged = [
        PersonId(project_id=project_id, distinct_id=distinct_id)
        for project_id, edge in derived.edges
        for distinct_id in (edge.distinct_id, edge.other_id)
    ]
    updated = [PersonId(project_id=p, distinct_id=d) for p, d, _ in derived.updates]
    return [*merged, *updated]
