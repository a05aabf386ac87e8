"""Change notices between processes: workers publish what changed, every serving process
hears it (Redis Pub/Sub) to advance or drop hot contexts and push live updates.

A notice carries the new events whole, as `serve`'s local notices do (adapters.notice_wire):
a serving process advances a cached context with them instead of reading PostgreSQL again.
Pub/Sub is fire-and-forget: a process that misses a notice serves a context at most the
cache's TTL old, and live streams catch up on the next notice. A process that lost its
subscription may have missed any notice, so it drops every cached context when it is back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import redis.asyncio as aioredis
import structlog

from usertrail.adapters.notice_wire import Wants, decode_notice, encode_notices
from usertrail.model.event import EVERYONE, Changed

log = structlog.get_logger("usertrail.changes")
# Redis takes far larger messages; bounded so one slice's notice never holds a subscriber's
# output buffer (and its decoder) for long, and a slice of small events is one message.
NOTICE_BYTES_MAX = 256 * 1024
PENDING_MAX = 10_000  # notices waiting for Redis; older ones are dropped past this


class RedisChangeNotices:
    def __init__(self, url: str, channel: str = "usertrail:changes") -> None:
        self._redis = aioredis.Redis.from_url(url)
        self._channel = channel
        self._queued: list[bytes] = []
        self._sender: asyncio.Task[None] | None = None
        # Whose new events to decode whole (a serving process: those its context cache
        # holds); of the others only the ids are read, as `serve`'s local notices do.
        self.wants_event: Wants | None = None

    def publish(self, events: Sequence[Changed]) -> None:
        """Processor listener (synchronous): send in the background, never block the slice.
        One sender, so notices leave in the order they were published."""
        self._queued += encode_notices(events, NOTICE_BYTES_MAX)
        if len(self._queued) > PENDING_MAX:  # Redis is stuck: drop the oldest
            log.warning("change_notice_not_sent", dropped=len(self._queued) - PENDING_MAX)
            del self._queued[: len(self._queued) - PENDING_MAX]
        if self._queued and (self._sender is None or self._sender.done()):
            self._sender = asyncio.get_running_loop().create_task(self._send_all())

    async def _send_all(self) -> None:
        """What is queued, a pipeline (one round trip) at a time, until nothing is."""
        while self._queued:
            notices, self._queued = self._queued, []
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for notice in notices:
                        pipe.publish(self._channel, notice)
                    await pipe.execute()
            except Exception as exc:  # fire-and-forget, as Pub/Sub itself is
                log.warning("change_notice_not_sent", error=str(exc), dropped=len(notices))

    async def listen(self, deliver: Callable[[Sequence[Changed]], None]) -> None:
        """Hand every notice to `deliver` until cancelled; reconnects after errors."""
        while True:
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.subscribe(self._channel)
                    async for message in pubsub.listen():
                        _hand(message, deliver, self.wants_event)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("change_notices_failed")
                await asyncio.sleep(1.0)

    async def aclose(self) -> None:
        await self._redis.aclose()


def _hand(
    message: dict[str, object],
    deliver: Callable[[Sequence[Changed]], None],
    wants: Wants | None = None,
) -> None:
    """A notice to `deliver` (with `wants`: whole only the events it wants, and the
    `$groupidentify` ones); on (re)subscribing, EVERYONE: notices sent while this process
    was not subscribed are lost, and the contexts they changed with them."""
    if message["type"] == "subscribe":
        deliver([EVERYONE])
        return
    data = message["data"]
    if message["type"] != "message" or not isinstance(data, bytes):
        return
    try:
        deliver(decode_notice(data, wants))
    except Exception:  # one bad notice must not cost the subscription (and those after it)
        log.exception("change_notice_failed")
