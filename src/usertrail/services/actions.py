"""Deliver trigger actions from the outbox: at least once, with retries, then dead-letter.

Firings and their deliveries were recorded by the processor in one transaction; this loop
only sends. A failed attempt is due again after an exponential backoff; after
`max_attempts` (or a permanent failure) the delivery is dead: listed by
`usertrail actions list --failed` and sent again by `usertrail actions retry`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

import structlog

from usertrail.model.actions import Delivery
from usertrail.observability import Metrics
from usertrail.ports import DeliveryFailed, Notifier

log = structlog.get_logger("usertrail.actions")


class DeliveryQueue(Protocol):
    async def next_due(self) -> datetime | None: ...

    async def claim_due(self, now: datetime, limit: int, lease: timedelta) -> list[Delivery]: ...

    async def delivered(self, delivery_id: int) -> None: ...

    async def failed(self, delivery_id: int, error: str, retry_at: datetime | None) -> None: ...


def retry_delay(attempt: int, base_s: float, cap_s: float) -> timedelta:
    """Exponential backoff: base, 2×base, 4×base… capped. `attempt` counts from 1."""
    return timedelta(seconds=min(cap_s, base_s * 2 ** (attempt - 1)))


class ActionDispatcher:
    def __init__(
        self,
        queue: DeliveryQueue,
        notifier: Notifier,
        metrics: Metrics,
        clock: Callable[[], datetime],
        *,
        max_attempts: int = 8,
        base_delay_s: float = 5.0,
        max_delay_s: float = 3600.0,
        send_timeout_s: float = 30.0,
        batch: int = 32,
    ) -> None:
        self._queue = queue
        self._notifier = notifier
        self._metrics = metrics
        self._clock = clock
        self._max_attempts = max_attempts
        self._base_delay_s = base_delay_s
        self._max_delay_s = max_delay_s
        self._send_timeout_s = send_timeout_s
        self._batch = batch
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run_forever(self, idle_poll: float = 1.0) -> None:
        while True:
            try:
                while await self.dispatch_due() == self._batch:
                    pass  # a full batch: there may be more due right now
            except Exception:  # keep going; claimed rows come due again when the lease ends
                self._metrics.errors.labels("actions").inc()
                log.exception("dispatch_failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=idle_poll)
            self._wake.clear()

    async def dispatch_due(self) -> int:
        """Send every delivery due now (concurrently); returns how many were claimed."""
        # The lease outlasts a send, so nobody else claims a row while it is in flight.
        lease = timedelta(seconds=self._send_timeout_s * 2)
        now = self._clock()
        if (first := await self._queue.next_due()) is None or first > now:
            return 0  # a read: no write transaction while there is nothing to send
        due = await self._queue.claim_due(now, self._batch, lease)
        await asyncio.gather(*(self._deliver(d) for d in due))
        return len(due)

    async def _deliver(self, delivery: Delivery) -> None:
        attempt = delivery.attempts + 1
        try:
            if delivery.message is None:
                raise DeliveryFailed("nothing to send", permanent=True)
            async with asyncio.timeout(self._send_timeout_s):
                await self._notifier.send(delivery.key, delivery.message)
        except Exception as exc:  # whatever went wrong, the attempt counts and is recorded
            await self._failed(delivery, attempt, _as_failure(exc))
            return
        await self._queue.delivered(delivery.id)
        self._metrics.deliveries.labels(delivery.kind, "delivered").inc()
        log.info("delivered", key=delivery.key, kind=delivery.kind, attempt=attempt)

    async def _failed(self, delivery: Delivery, attempt: int, failure: DeliveryFailed) -> None:
        dead = failure.permanent or attempt >= self._max_attempts
        retry_at = None
        if not dead:
            retry_at = self._clock() + retry_delay(attempt, self._base_delay_s, self._max_delay_s)
        await self._queue.failed(delivery.id, failure.reason, retry_at)
        outcome = "dead" if dead else "retry"
        self._metrics.deliveries.labels(delivery.kind, outcome).inc()
        log.warning(
            "delivery_failed",
            key=delivery.key,
            attempt=attempt,
            outcome=outcome,
            reason=failure.reason,
        )


def _as_failure(exc: Exception) -> DeliveryFailed:
    if isinstance(exc, DeliveryFailed):
        return exc
    if isinstance(exc, TimeoutError):
        return DeliveryFailed("timed out")
    return DeliveryFailed(f"{type(exc).__name__}: {exc}")
