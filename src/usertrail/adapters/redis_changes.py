"""Change notices between processes: workers publish which persons changed, every serving
process hears them (Redis Pub/Sub) to drop hot contexts and push live updates.

Pub/Sub is fire-and-forget: a process that misses a notice serves a context at most the
cache's TTL old, and live streams catch up on the next notice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import msgspec
import redis.asyncio as aioredis
import structlog

from usertrail.model.event import Changed, PersonId

log = structlog.get_logger("usertrail.changes")
_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(list[PersonId]).decode


class RedisChangeNotices:
    def __init__(self, url: str, channel: str = "usertrail:changes") -> None:
        self._redis = aioredis.Redis.from_url(url)
        self._channel = channel
        self._sending: set[asyncio.Task[int]] = set()  # referenced until done (no early GC)

    def publish(self, events: Sequence[Changed]) -> None:
        """Processor listener (synchronous): send in the background, never block the slice."""
        ids = {(e.project_id, e.distinct_id) for e in events}
        payload = _encode([PersonId(project_id=p, distinct_id=d) for p, d in sorted(ids)])
        task = asyncio.get_running_loop().create_task(self._send(payload))
        self._sending.add(task)
        task.add_done_callback(self._sent)

    async def _send(self, payload: bytes) -> int:
        return int(await self._redis.publish(self._channel, payload))

    def _sent(self, task: asyncio.Task[int]) -> None:
        self._sending.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.warning("change_notice_not_sent", error=str(exc))

    async def listen(self, deliver: Callable[[Sequence[PersonId]], None]) -> None:
        """Hand every notice to `deliver` until cancelled; reconnects after errors."""
        while True:
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.subscribe(self._channel)
                    async for message in pubsub.listen():
                        if message["type"] == "message":
                            deliver(_decode(message["data"]))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("change_notices_failed")
                await asyncio.sleep(1.0)

    async def aclose(self) -> None:
        await self._redis.aclose()
