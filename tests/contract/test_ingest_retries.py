"""A client's retry of a batch the log already holds: workers must derive from the log's copy.

posthog-python sends a fresh `sent_at` with every attempt and ingest corrects clock skew
against its own receipt time (core.timestamps), so each attempt's copy of an event has its own
timestamp. The raw log keeps the first; derived state is a function of the log (what a replay
builds), so the bus must carry that copy, whichever attempts published and in whichever order
workers take them. On SQLite and PostgreSQL, with the real Redis.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from tests.backends import REDIS_URL
from tests.contract.test_feeds import sql
from usertrail.adapters.redis_bus import RedisStreamBus
from usertrail.adapters.sql.eventlog import SqlEventLog, from_us
from usertrail.adapters.sql.projects import SqlProjects
from usertrail.adapters.sql.store import SqlDerivedStore
from usertrail.adapters.sql.tables import counters, events, raw_events
from usertrail.model.config import ProjectConfig
from usertrail.observability import Metrics
from usertrail.services.feeds import BusFeed
from usertrail.services.ingest import IngestService
from usertrail.services.processor import Processor

CAPTURED = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # the SDK's clock, which is the server's
# The first attempt arrives at once; the retry waited 2.5 s in a restarting server's backlog,
# so its correction (receipt time + timestamp - sent_at) puts the event 2.5 s later.
FIRST = (CAPTURED + timedelta(seconds=1), CAPTURED + timedelta(seconds=1, milliseconds=2))
RETRY = (CAPTURED + timedelta(seconds=3), CAPTURED + timedelta(seconds=5, milliseconds=500))


@dataclass
class Cluster:
    log: SqlEventLog
    store: SqlDerivedStore
    engine: Engine
    bus: RedisStreamBus
    projects: SqlProjects
    token: str

    def ingest(self, received: datetime, *, publishes: bool = True) -> IngestService:
        """An ingest process whose clock reads `received`; one that does not publish is one
        killed between its commit and its publish."""
        bus = self.bus if publishes else None
        return IngestService(self.log, self.projects, Metrics(), clock=lambda: received, bus=bus)

    def worker(self, name: str) -> Processor:
        feed = BusFeed(self.bus, name, block_ms=50, reclaim_idle_ms=100, reclaim_every_s=0)
        return Processor(feed, self.store, lambda _p: ProjectConfig(), Metrics())


@pytest.fixture
async def cluster(database_url: str, redis_prefix: str) -> AsyncIterator[Cluster]:
    async with sql(database_url) as (log, store, engine):
        projects = SqlProjects(engine)
        project, _ = projects.ensure("p1", "Retries")
        bus = RedisStreamBus(REDIS_URL, prefix=redis_prefix, partitions=2)
        yield Cluster(log, store, engine, bus, projects, project.token)
        await bus.aclose()


def batch(token: str, event_uuid: str, sent_at: datetime) -> dict[str, Any]:
    """posthog-python's `/batch/` body for one event (each attempt stamps `sent_at`)."""
    event = {
        "event": "feature_used",
        "distinct_id": "u1",
        "uuid": event_uuid,
        "timestamp": CAPTURED.isoformat(),
        "properties": {"feature": "export"},
    }
    return {"api_key": token, "batch": [event], "sent_at": sent_at.isoformat()}


def derived_vs_logged(engine: Engine, event_uuid: str) -> tuple[datetime, datetime, datetime]:
    """(the stored event's time, its counter's first time, the raw log's time)."""
    with engine.connect() as conn:
        logged = conn.execute(select(raw_events.c.ts_us).where(raw_events.c.uuid == event_uuid))
        stored = conn.execute(select(events.c.ts_us).where(events.c.uuid == event_uuid))
        first = conn.execute(
            select(counters.c.first_us).where(counters.c.key == "event:feature_used")
        )
        return (
            from_us(stored.scalar_one()),
            from_us(first.scalar_one()),
            from_us(logged.scalar_one()),
        )


async def test_a_retry_of_an_attempt_that_died_before_publishing_is_processed_as_logged(
    cluster: Cluster,
) -> None:
    event_uuid = str(uuid.uuid4())
    sent_at, received = FIRST
    first = await cluster.ingest(received, publishes=False).capture_payload(
        batch(cluster.token, event_uuid, sent_at), {}, None
    )
    sent_at, received = RETRY
    retry = await cluster.ingest(received).capture_payload(
        batch(cluster.token, event_uuid, sent_at), {}, None
    )
    assert (first.accepted, retry.duplicates) == (1, 1)

    await cluster.worker("w1").drain()

    stored, first_seen, logged = derived_vs_logged(cluster.engine, event_uuid)
    assert logged == CAPTURED + timedelta(milliseconds=2)  # the first attempt's copy
    assert stored == first_seen == logged


async def test_copies_of_a_retried_event_taken_in_any_order_give_the_logs_state(
    cluster: Cluster,
) -> None:
    """Both attempts published; the worker that took the first copy was killed, so another
    processed the retry's copy first and the first copy only when it reclaimed it."""
    event_uuid = str(uuid.uuid4())
    sent_at, received = FIRST
    await cluster.ingest(received).capture_payload(
        batch(cluster.token, event_uuid, sent_at), {}, None
    )
    assert len(await cluster.bus.consume("killed", 10, block_ms=50)) == 1  # never acked
    sent_at, received = RETRY
    await cluster.ingest(received).capture_payload(
        batch(cluster.token, event_uuid, sent_at), {}, None
    )

    heir = cluster.worker("heir")
    await heir.drain()  # the retry's entry
    await asyncio.sleep(0.2)
    await heir.drain()  # the killed worker's entry, reclaimed once idle
    assert await cluster.bus.backlog() == 0

    stored, first_seen, logged = derived_vs_logged(cluster.engine, event_uuid)
    assert stored == first_seen == logged
