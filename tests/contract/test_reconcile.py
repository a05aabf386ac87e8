"""The reconciler: accepted events that Redis lost are published again, once, and only
after the grace period; on SQLite and PostgreSQL, with the real Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.backends import REDIS_URL
from tests.contract.test_event_log import raw
from tests.contract.test_feeds import sql
from usertrail.adapters.redis_bus import RedisStreamBus
from usertrail.adapters.sql.eventlog import SqlEventLog
from usertrail.adapters.sql.store import SqlDerivedStore
from usertrail.model.config import ProjectConfig
from usertrail.observability import Metrics
from usertrail.services.feeds import BusFeed
from usertrail.services.processor import Processor
from usertrail.services.reconcile import Reconciler

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.fixture
async def parts(
    database_url: str, redis_prefix: str
) -> AsyncIterator[tuple[SqlEventLog, SqlDerivedStore, RedisStreamBus]]:
    async with sql(database_url) as (log, store, _engine):
        bus = RedisStreamBus(REDIS_URL, prefix=redis_prefix, partitions=2)
        yield log, store, bus
        await bus.aclose()


def received(minutes_ago: float) -> datetime:
    return NOW - timedelta(minutes=minutes_ago)


async def test_lost_events_are_published_again_once(
    parts: tuple[SqlEventLog, SqlDerivedStore, RedisStreamBus],
) -> None:
    log, store, bus = parts
    delivered = [raw(received_at=received(30)) for _ in range(5)]
    lost = [raw(received_at=received(20)) for _ in range(4)]
    recent = [raw(received_at=received(1)) for _ in range(3)]  # maybe still on its way
    await log.append(delivered + lost + recent)
    await bus.publish(delivered)  # Redis then lost the rest
    worker = Processor(BusFeed(bus, "w", block_ms=50), store, lambda _p: ProjectConfig(), Metrics())
    await worker.drain()

    metrics = Metrics()
    reconciler = Reconciler(
        log, store, bus, metrics, lambda: NOW, grace=timedelta(minutes=5), batch=2
    )
    assert await reconciler.run_once() == len(lost)
    assert await reconciler.run_once() == 0  # the cursor moved past them
    assert metrics.registry.get_sample_value("usertrail_reconciled_events_total") == len(lost)

    await worker.drain()
    left, _last = await log.unprocessed_after(0, NOW, 100)
    assert {item.raw.uuid for item in left} == {e.uuid for e in recent}


async def test_a_dead_lettered_event_is_never_published_again(
    parts: tuple[SqlEventLog, SqlDerivedStore, RedisStreamBus],
) -> None:
    """A poison event failed every worker: the reconciler must not start that over."""
    log, store, bus = parts
    bus.max_deliveries = 1
    poison = raw(received_at=received(30))
    await log.append([poison])
    await bus.publish([poison])
    assert [m.event.uuid for m in await bus.consume("w1", 10, block_ms=50)] == [poison.uuid]
    await asyncio.sleep(0.05)
    assert await bus.reclaim("w2", min_idle_ms=10, count=10) == []  # dead-lettered
    metrics = Metrics()
    reconciler = Reconciler(log, store, bus, metrics, lambda: NOW, grace=timedelta(minutes=5))

    assert await reconciler.run_once() == 0
    await store.set_cursor("reconciler", 0)  # even walking the log again from the start
    assert await reconciler.run_once() == 0
    assert await bus.backlog() == 0
    assert [e.uuid for e in await bus.dead_letters()] == [poison.uuid]
    assert metrics.registry.get_sample_value("usertrail_bus_dead_letters") == 1
