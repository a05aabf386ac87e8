"""The relay: every event the SDKs sent to usertrail goes on to PostHog, from a durable cursor
over the raw log, so PostHog keeps its analytics while usertrail builds context.

- Off the request path: capture answers from its own commit; a PostHog outage only grows the
  relay's backlog, and the relay catches up when PostHog is back.
- At least once, with the uuid kept: the cursor moves after PostHog took a read's batches, so
  a crash re-sends at most one read, which PostHog deduplicates by uuid.
- Retries with full-jitter backoff on 5xx, 429 (honouring Retry-After), timeouts and refused
  connections. A 4xx that no retry passes is split until the refused event stands alone, and
  that event alone is dead-lettered with PostHog's answer.
- One relay at a time (a leader lock on PostgreSQL). On PostgreSQL, seqs are handed out before
  commit, so a gap in them may still fill: the relay waits up to `gap_wait` behind a gap.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

import msgspec
import structlog

from usertrail.core.relay import (
    Batch,
    Rejected,
    Retry,
    Sent,
    Target,
    batch_body,
    halves,
    outcome,
    plan_batches,
    retry_wait_s,
)
from usertrail.errors import UpstreamUnreachable
from usertrail.model.raw import LoggedEvent
from usertrail.model.relay import UpstreamAnswer
from usertrail.observability import Metrics
from usertrail.ports import EventLog

log = structlog.get_logger("usertrail.relay")
CURSOR = "posthog"
BACKLOG_EVERY_S = 1.0


class RelayState(Protocol):
    async def start_cursor(self, name: str) -> int:
        """The cursor; the first time, the end of the log (what was captured before the
        relay was turned on is not sent)."""
        ...

    async def set_cursor(self, name: str, seq: int) -> None: ...

    async def dead_letter(
        self, events: Sequence[LoggedEvent], reason: str, now: datetime
    ) -> None: ...

    async def backlog(self, after_seq: int) -> int: ...


class Upstream(Protocol):
    async def post_batch(self, host: str, path: str, body: dict[str, Any]) -> UpstreamAnswer:
        """PostHog's answer; raises UpstreamUnreachable when there is none."""
        ...


class RelayStatus(msgspec.Struct, kw_only=True):
    """What the dashboard shows: counts since start, and where the relay stands now."""

    sent: int = 0
    retried: int = 0
    dead: int = 0
    backlog: int = 0
    lag_s: float = 0.0
    last_error: str | None = None


def safe_prefix(
    events: Sequence[LoggedEvent], after_seq: int, now: datetime, gap_wait: timedelta
) -> list[LoggedEvent]:
    """The events the relay may pass: up to the first gap in seqs that is younger than
    `gap_wait` (a transaction holding the missing seq may still commit)."""
    expected = after_seq + 1
    for i, logged in enumerate(events):
        if logged.seq != expected and now - logged.raw.received_at < gap_wait:
            return list(events[:i])
        expected = logged.seq + 1
    return list(events)


class RelayService:
    def __init__(
        self,
        log_: EventLog,
        state: RelayState,
        upstream: Upstream,
        target_of: Callable[[str], Awaitable[Target | None]],
        metrics: Metrics,
        clock: Callable[[], datetime],
        *,
        batch_events: int = 1000,
        retry_max_s: float = 60.0,
        gap_wait: timedelta = timedelta(0),
        linger_s: float = 0.0,
        rand: Callable[[], float],
    ) -> None:
        self._log = log_
        self._state = state
        self._upstream = upstream
        self._target_of = target_of
        self._metrics = metrics
        self._clock = clock
        self._batch_events = batch_events
        self._retry_max_s = retry_max_s
        self._gap_wait = gap_wait
        self._linger_s = linger_s
        self._rand = rand
        self._wake = asyncio.Event()
        self.status = RelayStatus()
        self._next_count = 0.0  # monotonic time of the next backlog count

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        """Set the cursor, the first time, at the end of the log (done by the first step
        otherwise): nothing before it is relayed, everything after it is."""
        await self._state.start_cursor(CURSOR)

    async def run_forever(self, idle_poll: float, leading: Callable[[], Awaitable[bool]]) -> None:
        while True:
            try:
                moved = await self.step() if await leading() else 0
            except Exception:  # a database hiccup: try again, never stop relaying
                self._metrics.errors.labels("relay").inc()
                log.exception("relay_step_failed")
                moved = 0
                await asyncio.sleep(1.0)
            if moved:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=idle_poll)
                # Woken by a commit: let the next few commits join this batch. Without it,
                # single-event capture woke one relay request (and one cursor write) per commit.
                await asyncio.sleep(self._linger_s)
            self._wake.clear()

    async def step(self) -> int:
        """Send what the log holds past the cursor (one read); returns how many were read."""
        cursor = await self._state.start_cursor(CURSOR)
        read = await self._log.read_after(cursor, self._batch_events * 4)
        ready = safe_prefix(read, cursor, self._clock(), self._gap_wait)
        await self._observe(cursor, ready)
        if not ready:
            return 0
        targets = {p: await self._target_of(p) for p in {e.raw.project_id for e in ready}}
        for batch in plan_batches(ready, targets.__getitem__, max_events=self._batch_events):
            await self._deliver(batch)
        await self._state.set_cursor(CURSOR, ready[-1].seq)
        return len(ready)

    async def _deliver(self, batch: Batch) -> None:
        attempt = 0
        while True:
            answer = await self._send(batch)
            if isinstance(answer, Sent):
                self._count("sent", len(batch.events))
                return
            if isinstance(answer, Rejected):
                await self._reject(batch, answer)
                return
            self._count("retried", len(batch.events))
            self.status.last_error = answer.reason
            self._set_lag(batch.events[0].raw.received_at)
            log.warning("relay_retry", reason=answer.reason, attempt=attempt + 1)
            await asyncio.sleep(retry_wait_s(answer, attempt, self._retry_max_s, self._rand))
            attempt += 1

    async def _send(self, batch: Batch) -> Sent | Retry | Rejected:
        body = batch_body(batch, self._clock())
        try:
            answer = await self._upstream.post_batch(batch.target.host, batch.path, body)
        except UpstreamUnreachable as exc:
            return Retry(exc.detail)
        return outcome(answer.status, answer.text, answer.retry_after)

    async def _reject(self, batch: Batch, rejected: Rejected) -> None:
        if len(batch.events) > 1:
            for half in halves(batch.events):
                await self._deliver(msgspec.structs.replace(batch, events=half))
            return
        await self._state.dead_letter(batch.events, rejected.reason, self._clock())
        self._count("dead", 1)
        self.status.last_error = rejected.reason
        log.warning("relay_dead_letter", uuid=batch.events[0].raw.uuid, reason=rejected.reason)

    def _count(self, outcome_: str, n: int) -> None:
        self._metrics.relay_events.labels(outcome_).inc(n)
        setattr(self.status, outcome_, getattr(self.status, outcome_) + n)

    async def _observe(self, cursor: int, ready: Sequence[LoggedEvent]) -> None:
        # The backlog is a COUNT over everything past the cursor: while catching up on a
        # large backlog, once a second rather than once per read.
        if time.monotonic() >= self._next_count or not ready:
            # Only a read with events defers the next count: the first read after idling
            # always counts, so an outage shows its backlog at once.
            self._next_count = time.monotonic() + BACKLOG_EVERY_S if ready else 0.0
            self.status.backlog = await self._state.backlog(cursor)
            self._metrics.relay_backlog.set(self.status.backlog)
        self._set_lag(ready[0].raw.received_at if ready else None)

    def _set_lag(self, oldest: datetime | None) -> None:
        lag = (self._clock() - oldest).total_seconds() if oldest else 0.0
        self.status.lag_s = max(lag, 0.0)
        self._metrics.relay_lag_seconds.set(self.status.lag_s)
