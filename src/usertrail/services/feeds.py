"""Where the processor's events come from: the raw log (embedded) or the event bus (scale-out).

Both hand out slices of raw events and learn when a slice's derived state is committed:
- LogFeed follows the raw log by `seq`; its cursor is committed in the same transaction as
  the derived rows, so a crash re-reads at most the uncommitted slice.
- BusFeed reads a consumer group and acks after the commit; what a dead worker read is
  reclaimed once idle. Reclaimed entries are processed one at a time, so a poison entry
  fails alone (and is dead-lettered by the bus) instead of taking its batchmates with it.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol

from usertrail.model.raw import LoggedEvent
from usertrail.ports import BusMessage, DerivedStore, EventBus, EventLog


@dataclass(frozen=True)
class Slice:
    events: list[LoggedEvent]
    messages: list[BusMessage] = field(default_factory=list)  # bus receipts, to ack


class EventFeed(Protocol):
    # The cursor committed with each slice (LogFeed), or None when acks happen afterwards.
    cursor: str | None
    # True when `read` itself waits for new events (the processor need not be woken).
    blocks: bool

    async def rewind(self) -> None:
        """Start again from the last committed position (after a failed slice)."""

    async def read(self, limit: int, *, wait: bool = True) -> Slice:
        """Up to `limit` events; a blocking feed waits for some only when `wait`."""
        ...

    async def done(self, piece: Slice) -> None:
        """The slice's derived state is committed."""


PROCESSOR_CURSOR = "processor"  # the embedded processor's position in the raw log


class LogFeed:
    blocks: bool = False

    def __init__(self, log: EventLog, store: DerivedStore, cursor: str = PROCESSOR_CURSOR) -> None:
        self._log = log
        self._store = store
        self.cursor: str | None = cursor
        self._seq = 0

    async def rewind(self) -> None:
        self._seq = await self._store.cursor(self.cursor or "")

    async def read(self, limit: int, *, wait: bool = True) -> Slice:
        events = await self._log.read_after(self._seq, limit)
        if events:
            self._seq = events[-1].seq
        return Slice(events)

    async def done(self, piece: Slice) -> None:
        pass  # the cursor moved with the slice's transaction


class BusFeed:
    cursor: str | None = None
    blocks: bool = True

    def __init__(
        self,
        bus: EventBus,
        consumer: str,
        *,
        block_ms: int = 1000,
        reclaim_idle_ms: int = 30_000,
        reclaim_every_s: float = 5.0,
    ) -> None:
        self._bus = bus
        self._consumer = consumer
        self._block_ms = block_ms
        self._reclaim_idle_ms = reclaim_idle_ms
        self._reclaim_every_s = reclaim_every_s
        self._next_reclaim = 0.0
        self._reclaimed: deque[BusMessage] = deque()

    async def rewind(self) -> None:
        pass  # unacked entries come back through reclaim

    async def read(self, limit: int, *, wait: bool = True) -> Slice:
        if not self._reclaimed and time.monotonic() >= self._next_reclaim:
            self._next_reclaim = time.monotonic() + self._reclaim_every_s
            claimed = await self._bus.reclaim(self._consumer, self._reclaim_idle_ms, limit)
            self._reclaimed.extend(claimed)
        if self._reclaimed:
            messages = [self._reclaimed.popleft()]
        else:
            messages = await self._bus.consume(self._consumer, limit, self._block_ms if wait else 0)
        events = [LoggedEvent(seq=0, raw=m.event) for m in messages]
        return Slice(events, messages)

    async def done(self, piece: Slice) -> None:
        await self._bus.ack(piece.messages)
