"""The processor's feeds (services.feeds): the raw log on SQLite and PostgreSQL, and the
Redis Streams bus. One contract: every accepted event ends up processed exactly once, also
when a worker dies between reading a slice and committing it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine

from tests.backends import REDIS_URL
from tests.contract.test_event_log import raw
from usertrail.adapters.redis_bus import RedisStreamBus
from usertrail.adapters.sql.engine import create_schema, make_engine
from usertrail.adapters.sql.eventlog import SqlEventLog
from usertrail.adapters.sql.store import SqlDerivedStore, count_events
from usertrail.adapters.sql.writer import GroupCommitWriter
from usertrail.core.process import derive
from usertrail.model.config import ProjectConfig
from usertrail.model.raw import RawEvent
from usertrail.observability import Metrics
from usertrail.services.feeds import BusFeed, EventFeed, LogFeed
from usertrail.services.processor import Processor

CONFIG = ProjectConfig()


@dataclass
class Setup:
    accept: Callable[[Sequence[RawEvent]], Awaitable[object]]  # what ingest does
    new_feed: Callable[[], EventFeed]  # a (re)started worker's feed
    store: SqlDerivedStore
    engine: Engine

    def processor(self) -> Processor:
        return Processor(self.new_feed(), self.store, lambda _p: CONFIG, Metrics())

    def stored(self) -> int:
        with self.engine.connect() as conn:
            return count_events(conn, "p1")


@asynccontextmanager
async def sql(url: str) -> AsyncIterator[tuple[SqlEventLog, SqlDerivedStore, Engine]]:
    engine, write_engine = make_engine(url), make_engine(url, writer=True)
    create_schema(write_engine)
    writer = GroupCommitWriter(write_engine)
    try:
        yield SqlEventLog(writer, engine), SqlDerivedStore(writer, engine), engine
    finally:
        writer.close()
        engine.dispose()
        write_engine.dispose()


@pytest.fixture(params=["log", "bus"])
async def setup(request: pytest.FixtureRequest, database_url: str) -> AsyncIterator[Setup]:
    async with sql(database_url) as (log, store, engine):
        if request.param == "log":
            yield Setup(log.append, lambda: LogFeed(log, store), store, engine)
            return
        prefix = request.getfixturevalue("redis_prefix")
        bus = RedisStreamBus(REDIS_URL, prefix=prefix, partitions=4)
        names = iter(range(1000))

        def new_feed() -> EventFeed:
            return BusFeed(
                bus, f"w{next(names)}", block_ms=50, reclaim_idle_ms=100, reclaim_every_s=0
            )

        async def accept(events: Sequence[RawEvent]) -> None:
            await log.append(events)
            await bus.publish(events)

        try:
            yield Setup(accept, new_feed, store, engine)
        finally:
            await bus.aclose()


async def test_every_accepted_event_is_processed_once(setup: Setup) -> None:
    events = [raw(distinct_id=f"u{i % 5}") for i in range(30)]
    await setup.accept(events[:20])
    await setup.accept(events[10:])  # a client retry: ten of them again
    processed = await setup.processor().drain()
    assert processed >= 30
    assert setup.stored() == 30
    assert await setup.processor().drain() == 0  # nothing left over for the next worker


async def test_a_slice_read_but_never_committed_is_processed_after_a_restart(
    setup: Setup,
) -> None:
    events = [raw() for _ in range(12)]
    await setup.accept(events)
    dying = setup.new_feed()
    await dying.rewind()
    piece = await dying.read(5)  # read, derived, then the worker died before committing
    assert 0 < len(piece.events) <= 5
    derive(piece.events, lambda _p: CONFIG)
    await asyncio.sleep(0.15)  # the bus hands it over once idle
    restarted = setup.processor()
    while await restarted.drain():
        pass
    assert setup.stored() == 12
