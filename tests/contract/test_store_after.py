"""A slice applied `after` the one before it (the processor's pipeline) is written only once
that one committed, and not at all if it failed: the cursor never passes a slice that was
not stored. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest

from tests.contract.test_event_log import raw
from tests.contract.test_feeds import sql
from usertrail.adapters.sql.store import count_events
from usertrail.core.process import Derived, derive
from usertrail.model.config import ProjectConfig
from usertrail.model.raw import LoggedEvent


def a_slice(first_seq: int, n: int = 3) -> Derived:
    logged = [LoggedEvent(seq=first_seq + i, raw=raw()) for i in range(n)]
    return derive(logged, lambda _project: ProjectConfig())


async def test_a_slice_after_a_failed_one_is_not_written(database_url: str) -> None:
    async with sql(database_url) as (_log, store, engine):
        before: asyncio.Future[list[object]] = asyncio.get_running_loop().create_future()
        applying = asyncio.ensure_future(store.apply(a_slice(4), "processor", after=before))
        await asyncio.sleep(0.2)
        assert not applying.done()  # it waits for the slice before it
        before.set_exception(RuntimeError("the slice before failed"))

        with pytest.raises(RuntimeError, match="the slice before failed"):
            await applying

        assert await store.cursor("processor") == 0
        with engine.connect() as conn:
            assert count_events(conn, "p1") == 0


async def test_a_slice_after_a_committed_one_is_written_after_it(database_url: str) -> None:
    async with sql(database_url) as (_log, store, engine):
        first = asyncio.ensure_future(store.apply(a_slice(1), "processor"))
        second = asyncio.ensure_future(store.apply(a_slice(4), "processor", after=first))

        assert [len(new) for new in await asyncio.gather(first, second)] == [3, 3]
        assert await store.cursor("processor") == 6
        with engine.connect() as conn:
            assert count_events(conn, "p1") == 6
