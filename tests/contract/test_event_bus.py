"""The Redis Streams bus (ports.EventBus) against a real Redis on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import msgspec
import pytest

from tests.backends import REDIS_URL
from tests.contract.test_event_log import raw
from usertrail.adapters.redis_bus import GROUP, RedisStreamBus, partition_of
from usertrail.model.raw import RawEvent


@pytest.fixture
async def bus(redis_prefix: str) -> AsyncIterator[RedisStreamBus]:
    bus = RedisStreamBus(REDIS_URL, prefix=redis_prefix, partitions=4, max_deliveries=3)
    yield bus
    await bus.aclose()


async def consume_all(bus: RedisStreamBus, consumer: str) -> list[str]:
    uuids: list[str] = []
    while messages := await bus.consume(consumer, 100, block_ms=50):
        uuids.extend(m.event.uuid for m in messages)
        await bus.ack(messages)
    return uuids


async def test_each_event_goes_to_one_consumer_of_the_group(bus: RedisStreamBus) -> None:
    events = [raw(distinct_id=f"u{i % 7}") for i in range(200)]
    await bus.publish(events)
    first, second = await asyncio.gather(consume_all(bus, "a"), consume_all(bus, "b"))
    assert sorted(first + second) == sorted(e.uuid for e in events)
    assert await bus.backlog() == 0


async def test_one_persons_events_keep_their_order(bus: RedisStreamBus) -> None:
    events = [raw(distinct_id=f"u{i % 3}") for i in range(60)]
    for event in events:  # one at a time, as separate requests would
        await bus.publish([event])
    read = await consume_all(bus, "a")
    for distinct_id in ("u0", "u1", "u2"):
        sent = [e.uuid for e in events if e.distinct_id == distinct_id]
        assert [u for u in read if u in set(sent)] == sent
    partitions = {partition_of("p1", f"u{i}", 4) for i in range(3)}
    assert partitions <= set(range(4))


async def test_a_dead_consumers_unacked_events_are_reclaimed_once_idle(
    bus: RedisStreamBus,
) -> None:
    events = [raw() for _ in range(10)]
    await bus.publish(events)
    taken = await bus.consume("dies", 100, block_ms=50)
    await bus.ack(taken[:4])  # it finished four, then died
    assert await bus.reclaim("heir", min_idle_ms=60_000, count=100) == []  # not idle yet
    await asyncio.sleep(0.25)
    reclaimed = await bus.reclaim("heir", min_idle_ms=200, count=100)
    assert sorted(m.event.uuid for m in reclaimed) == sorted(m.event.uuid for m in taken[4:])
    assert {m.deliveries for m in reclaimed} == {2}
    await bus.ack(reclaimed)
    assert await bus.backlog() == 0


async def test_an_event_that_keeps_failing_is_dead_lettered(bus: RedisStreamBus) -> None:
    poison, fine = raw(), raw()
    await bus.publish([poison, fine])
    taken = await bus.consume("w1", 10, block_ms=50)
    await bus.ack([m for m in taken if m.event.uuid == fine.uuid])
    for attempt in range(2, 5):  # each worker that takes it over crashes too
        await asyncio.sleep(0.12)
        again = await bus.reclaim(f"w{attempt}", min_idle_ms=100, count=10)
        if attempt <= 3:
            assert [m.event.uuid for m in again] == [poison.uuid]
        else:
            assert again == []  # the 4th would exceed max_deliveries=3: dead-lettered
    assert [e.uuid for e in await bus.dead_letters()] == [poison.uuid]
    assert await bus.backlog() == 0


async def test_trim_drops_acked_entries_and_keeps_pending_ones(bus: RedisStreamBus) -> None:
    events = [raw(distinct_id="same") for _ in range(20)]
    await bus.publish(events)
    taken = await bus.consume("a", 100, block_ms=50)
    await bus.ack(taken[:15])
    await bus.trim()
    stream = bus.streams[partition_of("p1", "same", 4)]
    remaining = await bus._redis.xrange(stream)
    assert len(remaining) == 5
    await bus.ack(taken[15:])
    await bus.trim()
    assert await bus._redis.xlen(stream) == 0


# What a stream can hold that is no event: garbage, an entry without the event field, and
# msgpack of another shape (as another version, or anyone who can reach Redis, could write).
NOT_EVENTS: list[dict[str, bytes]] = [
    {"e": b"\xc1 not msgpack \xff"},
    {"x": "ü/\x00".encode()},
    {"e": msgspec.msgpack.encode({"uuid": "ü/\x00" * 1000, "project_id": 2**63})},
]


async def add_between(bus: RedisStreamBus, distinct_id: str) -> list[RawEvent]:
    """An event, the entries that are none, and another event, on one person's stream."""
    before, after = raw(distinct_id=distinct_id), raw(distinct_id=distinct_id)
    await bus.publish([before])
    stream = bus.streams[partition_of("p1", distinct_id, 4)]
    for fields in NOT_EVENTS:
        await bus._redis.xadd(stream, fields)  # type: ignore[arg-type]
    await bus.publish([after])
    return [before, after]


async def test_an_entry_that_is_no_event_is_dead_lettered_at_once_and_the_rest_delivered(
    bus: RedisStreamBus,
) -> None:
    events = await add_between(bus, "ünï/\u202e")
    assert await consume_all(bus, "w1") == [e.uuid for e in events]
    assert await bus._redis.xlen(bus.dead_stream) == len(NOT_EVENTS)
    assert await bus.dead_uuids() == set()  # they name no event: none is held back
    assert await bus.backlog() == 0


async def test_a_reclaimed_entry_that_is_no_event_is_dead_lettered_with_no_event_lost(
    bus: RedisStreamBus,
) -> None:
    """Read by a worker of a version that could not tell (and died): its heir sorts them."""
    events = await add_between(bus, "😀" * 50)
    await bus.ensure_groups()
    await bus._redis.xreadgroup(GROUP, "old", dict.fromkeys(bus.streams, ">"), count=100)
    await asyncio.sleep(0.12)
    reclaimed = await bus.reclaim("heir", min_idle_ms=100, count=100)
    assert [m.event.uuid for m in reclaimed] == [e.uuid for e in events]
    await bus.ack(reclaimed)
    assert await bus._redis.xlen(bus.dead_stream) == len(NOT_EVENTS)
    assert await bus.backlog() == 0
