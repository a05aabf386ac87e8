"""Replay: rebuild every piece of derived state from the raw log (docs/design.md rule 1)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from usertrail.services.processor import Processor


class Rebuildable(Protocol):
    async def clear(self) -> None: ...

    async def total_raw(self) -> int: ...


async def replay(
    store: Rebuildable,
    processor: Processor,
    on_start: Callable[[int], None] = lambda _total: None,
    on_batch: Callable[[int], None] = lambda _n: None,
) -> int:
    """Drop derived state and process the whole log again; returns events processed.

    A poison event (one that fails even alone) is dead-lettered as the live processor does
    (Processor.isolate) and the replay goes on; any other failure stops it."""
    await store.clear()
    on_start(await store.total_raw())
    total = 0
    while True:
        try:
            return total + await processor.drain(on_batch)
        except Exception:
            if not await processor.isolate():
                raise
            total += 1
