"""A poison event in the embedded log: the slice holding it fails again and again, is then
taken apart, and only that event is dead-lettered (listed, counted, passed by the cursor);
the events around it are processed. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from sqlalchemy import select

from tests.contract.test_event_log import raw
from tests.contract.test_feeds import sql
from usertrail.adapters.sql.tables import dead_events
from usertrail.model.config import ProjectConfig
from usertrail.observability import Metrics
from usertrail.services.feeds import LogFeed
from usertrail.services.processor import Processor
from usertrail.services.replay import replay


def config_for(project_id: str) -> ProjectConfig:
    """A project whose configuration cannot be built: every event of it fails, always."""
    if project_id == "broken":
        raise ValueError("no configuration for project 'broken'")
    return ProjectConfig()


async def until(check: Callable[[], Awaitable[bool]], polls: int = 300) -> None:
    for _ in range(polls):  # 30 s
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("timed out")


async def test_a_poison_event_is_dead_lettered_once_and_the_rest_is_processed(
    database_url: str,
) -> None:
    async with sql(database_url) as (log, store, engine):
        before, poison, after = raw(), raw(project_id="broken"), raw()
        await log.append([before, poison, after])
        metrics = Metrics()
        processor = Processor(LogFeed(log, store), store, config_for, metrics, batch_size=100)
        task = asyncio.create_task(processor.run_forever(idle_poll=0.05))
        try:

            async def all_passed() -> bool:
                return await store.cursor("processor") == 3

            await until(all_passed)
            await asyncio.sleep(1.5)  # more rounds: nothing is dead-lettered twice
        finally:
            task.cancel()
        with engine.connect() as conn:
            rows = conn.execute(select(dead_events)).mappings().all()
        assert [(r["uuid"], r["seq"]) for r in rows] == [(poison.uuid, 2)]
        assert "no configuration for project 'broken'" in rows[0]["error"]
        assert metrics.registry.get_sample_value("usertrail_dead_events_total") == 1
        processed = metrics.registry.get_sample_value("usertrail_events_processed_total")
        assert processed == 2


async def test_a_replay_dead_letters_the_poison_event_and_rebuilds_the_rest(
    database_url: str,
) -> None:
    async with sql(database_url) as (log, store, engine):
        events = [raw(), raw(project_id="broken"), raw(), raw()]
        await log.append(events)
        metrics = Metrics()
        processor = Processor(LogFeed(log, store), store, config_for, metrics, batch_size=100)

        await replay(store, processor)

        assert await store.cursor("processor") == 4
        with engine.connect() as conn:
            dead = [str(row[0]) for row in conn.execute(select(dead_events.c.uuid))]
        assert dead == [events[1].uuid]
        assert metrics.registry.get_sample_value("usertrail_events_processed_total") == 3
