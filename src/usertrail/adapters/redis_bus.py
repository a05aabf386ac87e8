"""The event bus on Redis Streams: partitioned by person, a consumer group, crash recovery.

- `publish` XADDs each event to the stream of its partition (crc32 of project + distinct id),
  pipelined in one round trip, so one id's events stay in order within a partition.
- Workers read with XREADGROUP in one consumer group and XACK only after the store commit.
- Entries a dead worker read but never acked are reclaimed (XPENDING + XCLAIM) once idle;
  after `max_deliveries` attempts an entry moves to a dead-letter stream instead.
- An entry that holds no event (garbage, or a shape another version wrote) can never be
  processed: it goes to the dead-letter stream as soon as it is read, and takes no event
  read with it.
- Acked entries are trimmed (XTRIM MINID) so the streams hold only work not yet done.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Awaitable, Sequence
from typing import Any, cast

import msgspec
import redis.asyncio as aioredis
import structlog
from redis.exceptions import RedisError, ResponseError

from usertrail.errors import StorageUnavailable
from usertrail.model.raw import RawEvent
from usertrail.ports import BusMessage

# Every object's keys sorted, as the raw log holds a body (canonical JSON, sorted keys), so a
# worker derives from the log's copy exactly, key order included: derivation keeps the first
# properties and groups it meets (20 and 10), and of two keys that clean to one name, one by
# position. In the SDK's order, a worker stored other properties than a replay of the log.
_encode = msgspec.msgpack.Encoder(order="sorted").encode
_decode = msgspec.msgpack.Decoder(RawEvent).decode
GROUP = "workers"
IDLE_CONSUMER_MS = 3_600_000
log = structlog.get_logger("usertrail.bus")
# An entry as read: its stream, id, fields, and how many times it was delivered.
_Entry = tuple[str, bytes, dict[bytes, bytes], int]


def partition_of(project_id: str, distinct_id: str, partitions: int) -> int:
    """Stable across processes and restarts (Python's hash() is salted per process)."""
    return zlib.crc32(f"{project_id}\x00{distinct_id}".encode()) % partitions


class RedisStreamBus:
    def __init__(
        self,
        url: str,
        *,
        prefix: str = "usertrail",
        partitions: int = 16,
        max_deliveries: int = 5,
    ) -> None:
        # Bounded waits: a hung Redis must turn into a 503 at ingest, not a hung request. The
        # socket timeout outlasts the longest XREADGROUP BLOCK a worker asks for.
        self._redis = aioredis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10)
        self._prefix = prefix
        self.partitions = partitions
        self.max_deliveries = max_deliveries
        self.streams = [f"{prefix}:events:{p}" for p in range(partitions)]
        self.dead_stream = f"{prefix}:events:dead"
        self._groups_ready = False

    async def publish(self, events: Sequence[RawEvent]) -> None:
        """Durable in Redis when it returns (as durable as Redis is configured to be)."""
        pipe = self._redis.pipeline(transaction=False)
        for event in events:
            stream = self.streams[
                partition_of(event.project_id, event.distinct_id, self.partitions)
            ]
            pipe.xadd(stream, {"e": _encode(event)})
        try:
            await pipe.execute()
        except RedisError as exc:
            raise StorageUnavailable(f"event bus unavailable: {exc}") from exc

    async def ensure_groups(self) -> None:
        if self._groups_ready:
            return
        for stream in self.streams:
            try:
                # From the start of the stream: entries published before the first worker
                # started are work too.
                await self._redis.xgroup_create(stream, GROUP, id="0", mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise
        self._groups_ready = True

    async def consume(self, consumer: str, count: int, block_ms: int) -> list[BusMessage]:
        """New entries for this consumer, waiting up to `block_ms` when there are none."""
        await self.ensure_groups()
        reply = await self._redis.xreadgroup(
            GROUP,
            consumer,
            dict.fromkeys(self.streams, ">"),
            count=-(-count // self.partitions),  # COUNT is per stream: about `count` in all
            block=block_ms or None,
        )
        return await self._messages(
            [
                (stream, entry_id, fields, 1)
                for stream, entries in _pairs(reply)
                for entry_id, fields in entries
                if fields
            ]
        )

    async def reclaim(self, consumer: str, min_idle_ms: int, count: int) -> list[BusMessage]:
        """Take over entries idle past `min_idle_ms` (their reader died); dead-letter the ones
        delivered `max_deliveries` times already (poison: they would crash every worker)."""
        await self.ensure_groups()
        claimed: list[BusMessage] = []
        for stream in self.streams:
            pending = await self._redis.xpending_range(
                stream, GROUP, min="-", max="+", count=count, idle=min_idle_ms
            )
            if not pending:
                continue
            poison = [
                p["message_id"] for p in pending if p["times_delivered"] >= self.max_deliveries
            ]
            retry = {p["message_id"]: p["times_delivered"] for p in pending}
            for message_id in poison:
                retry.pop(message_id)
            if poison:
                await self._dead_letter(stream, poison)
            if retry:
                entries = await self._redis.xclaim(
                    stream, GROUP, consumer, min_idle_ms, list(retry)
                )
                claimed += await self._messages(
                    [(stream, i, fields, retry[i] + 1) for i, fields in entries if fields]
                )
            if len(claimed) >= count:
                break
        return claimed

    async def _messages(self, entries: list[_Entry]) -> list[BusMessage]:
        """The entries that hold an event; the others dead-lettered now, not after
        `max_deliveries` (their reads failed every time, and every event read with them)."""
        messages: list[BusMessage] = []
        unreadable: dict[str, list[bytes]] = defaultdict(list)
        for stream, entry_id, fields, deliveries in entries:
            event = _event(fields)
            if event is None:
                unreadable[stream].append(entry_id)
                continue
            messages.append(
                BusMessage(stream=stream, id=entry_id.decode(), event=event, deliveries=deliveries)
            )
        for stream, ids in unreadable.items():
            log.error("bus_entry_unreadable", stream=stream, ids=[i.decode() for i in ids])
            await self._dead_letter(stream, ids)
        return messages

    async def _dead_letter(self, stream: str, message_ids: list[bytes]) -> None:
        read = self._redis.pipeline(transaction=False)
        for message_id in message_ids:
            read.xrange(stream, min=message_id, max=message_id, count=1)
        found = [entry for entries in await read.execute() for entry in entries]
        move = self._redis.pipeline(transaction=True)
        for entry_id, fields in found:
            move.xadd(self.dead_stream, {**fields, b"stream": stream, b"id": entry_id})
        move.xack(stream, GROUP, *message_ids)
        await move.execute()

    async def ack(self, messages: Sequence[BusMessage]) -> None:
        by_stream: dict[str, list[str]] = {}
        for message in messages:
            by_stream.setdefault(message.stream, []).append(message.id)
        pipe = self._redis.pipeline(transaction=False)
        for stream, ids in by_stream.items():
            pipe.xack(stream, GROUP, *ids)
        await pipe.execute()

    async def trim(self) -> None:
        """Drop acked entries: everything older than the oldest pending (or undelivered) one;
        forget consumers (restarted workers) idle for an hour with nothing pending."""
        for stream in self.streams:
            for consumer in await self._redis.xinfo_consumers(stream, GROUP):
                if not consumer["pending"] and consumer["idle"] > IDLE_CONSUMER_MS:
                    await self._redis.xgroup_delconsumer(stream, GROUP, consumer["name"])
            summary = await self._redis.xpending(stream, GROUP)
            if summary["pending"]:
                floor = summary["min"]
            else:
                groups = await self._redis.xinfo_groups(stream)
                floor = _next_id(
                    next(g for g in groups if g["name"] == GROUP.encode())["last-delivered-id"]
                )
            await self._redis.xtrim(stream, minid=floor, approximate=False)

    async def backlog(self) -> int:
        """Entries not yet acked: pending (read, unacked) plus not yet read."""
        total = 0
        for stream in self.streams:
            groups = await self._redis.xinfo_groups(stream)
            group = next((g for g in groups if g["name"] == GROUP.encode()), None)
            if group is None:
                total += await self._redis.xlen(stream)
                continue
            total += int(group["pending"]) + int(group.get("lag") or 0)
        return total

    async def dead_letters(self) -> list[RawEvent]:
        """The dead events (an entry dead for holding none names none)."""
        entries = await self._redis.xrange(self.dead_stream)
        return [event for _id, fields in entries if (event := _event(fields)) is not None]

    async def dead_uuids(self) -> set[tuple[str, str]]:
        """Read whole each round: dead letters are rare (poison events), and kept for a human."""
        return {(e.project_id, e.uuid) for e in await self.dead_letters()}

    async def ping(self) -> None:
        await cast("Awaitable[bool]", self._redis.ping())

    async def aclose(self) -> None:
        await self._redis.aclose()


def _pairs(reply: Any) -> list[tuple[str, list[tuple[bytes, dict[bytes, bytes]]]]]:
    """XREADGROUP's reply, as (stream, entries) pairs (RESP2 gives a list, RESP3 a dict)."""
    items = reply.items() if isinstance(reply, dict) else (reply or [])
    return [(s.decode() if isinstance(s, bytes) else s, entries) for s, entries in items]


def _event(fields: dict[bytes, bytes]) -> RawEvent | None:
    try:
        return _decode(fields[b"e"])
    except (KeyError, msgspec.DecodeError):  # ValidationError too: the shape of another version
        return None


def _next_id(entry_id: bytes) -> str:
    ms, seq = entry_id.decode().split("-")
    return f"{ms}-{int(seq) + 1}"
