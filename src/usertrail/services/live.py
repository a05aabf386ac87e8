"""Live updates: who has new processed events, fanned out to subscribers (SSE streams).

The processor publishes each stored slice; a subscriber gets the distinct ids that changed in
its project. Queues are bounded: a slow subscriber misses intermediate notices, never blocks
the processor, and still gets the latest state (it rebuilds context on the next notice).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from usertrail.model.event import EVERYONE, Changed

QUEUE_SIZE = 64
# The notice for "anyone may have changed" (EVERYONE): a subscriber rebuilds what it shows.
ANYONE: frozenset[str] = frozenset({"\x00anyone"})


def touches(notice: frozenset[str], ids: set[str]) -> bool:
    """Whether a notice may change what a subscriber following `ids` shows."""
    return notice is ANYONE or not notice.isdisjoint(ids)


class LiveUpdates:
    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[frozenset[str]]]] = defaultdict(set)

    def publish(self, events: Sequence[Changed]) -> None:
        if not any(self._subscribers.values()):
            return  # no stream open, as mostly: every notice is one to nobody
        if EVERYONE in events:
            for queues in self._subscribers.values():
                for queue in queues:
                    _put(queue, ANYONE)
            return
        changed: dict[str, set[str]] = defaultdict(set)
        for event in events:
            changed[event.project_id].add(event.distinct_id)
        for project_id, ids in changed.items():
            notice = frozenset(ids)
            for queue in self._subscribers.get(project_id, ()):
                _put(queue, notice)

    @asynccontextmanager
    async def subscribe(self, project_id: str) -> AsyncIterator[asyncio.Queue[frozenset[str]]]:
        queue: asyncio.Queue[frozenset[str]] = asyncio.Queue(QUEUE_SIZE)
        self._subscribers[project_id].add(queue)
        try:
            yield queue
        finally:
            self._subscribers[project_id].discard(queue)

    def subscriber_count(self) -> int:
        return sum(len(s) for s in self._subscribers.values())


def _put(queue: asyncio.Queue[frozenset[str]], notice: frozenset[str]) -> None:
    if queue.full():
        queue.get_nowait()  # drop the oldest notice; state is rebuilt anyway
    queue.put_nowait(notice)
