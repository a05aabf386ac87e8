"""Replay: rebuild every piece of derived state from the raw log (DESIGN.md rule 1)."""

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
    """Drop derived state and process the whole log again; returns events processed."""
    await store.clear()
    on_start(await store.total_raw())
    return await processor.drain(on_batch)
