"""Ingest: decode, authenticate, make raw events, store durably, then acknowledge."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import msgspec
from prometheus_client import Counter

from usertrail.core.capture import split_request
from usertrail.core.decode import decode_body
from usertrail.core.envelope import to_raw_event, to_raw_events
from usertrail.core.webhook import webhook_events
from usertrail.errors import BadCredentials, BadPayload
from usertrail.model.raw import RawEvent
from usertrail.observability import Metrics
from usertrail.ports import AppendResult, EventBus, EventLog, ProjectRegistry

Clock = Callable[[], datetime]
INLINE_DECODE_BYTES = 64 * 1024


class CaptureRequest(msgspec.Struct, frozen=True, kw_only=True):
    body: bytes
    content_type: str = ""
    content_encoding: str = ""
    query: Mapping[str, str] = msgspec.field(default_factory=dict)
    engage: bool = False
    ip: str | None = None


def utc_now() -> datetime:
    return datetime.now(UTC)


async def decode_off_loop(
    body: bytes, *, content_type: str, content_encoding: str, compression: str = ""
) -> Any:
    """Small bodies decode inline; big ones on a worker thread, so one slow body (up to 20 MB
    of gzip or pure-Python lz64) never stalls every other request on the event loop."""
    decode = functools.partial(
        decode_body,
        body,
        content_type=content_type,
        content_encoding=content_encoding,
        compression=compression,
    )
    return decode() if len(body) <= INLINE_DECODE_BYTES else await asyncio.to_thread(decode)


class IngestService:
    def __init__(
        self,
        log: EventLog,
        projects: ProjectRegistry,
        metrics: Metrics,
        *,
        clock: Clock = utc_now,
        on_stored: Callable[[], None] = lambda: None,
        bus: EventBus | None = None,
    ) -> None:
        self._log = log
        self._bus = bus
        self._projects = projects
        self._metrics = metrics
        self._clock = clock
        self._on_stored = on_stored
        self._by_source: dict[str, tuple[Counter, Counter]] = {}

    async def capture(self, req: CaptureRequest) -> AppendResult:
        payload = await decode_off_loop(
            req.body,
            content_type=req.content_type,
            content_encoding=req.content_encoding,
            compression=req.query.get("compression", ""),
        )
        return await self.capture_payload(payload, req.query, req.ip, engage=req.engage)

    async def capture_payload(
        self, payload: Any, query: Mapping[str, str], ip: str | None, *, engage: bool = False
    ) -> AppendResult:
        """A decoded capture body (any of the shapes core.capture accepts)."""
        batch = split_request(payload, query=query, engage=engage)
        if not batch.token:
            raise BadCredentials("no project token in request (api_key, token or properties.token)")
        project = await self._projects.by_token(batch.token)
        if project is None:
            raise BadCredentials("unknown project token")
        events = to_raw_events(
            batch, project_id=project.id, now=self._clock(), source="capture", ip=ip
        )
        return await self._store(events, "capture")

    async def webhook(self, secret: str | None, req: CaptureRequest) -> AppendResult:
        """PostHog's HTTP Webhook destination: the shared secret names the project."""
        project = await self._projects.by_webhook_secret(secret) if secret else None
        if project is None:
            raise BadCredentials("missing or wrong webhook secret")
        payload = await decode_off_loop(
            req.body, content_type=req.content_type, content_encoding=req.content_encoding
        )
        events = webhook_events(payload, project_id=project.id, now=self._clock())
        return await self._store(events, "webhook")

    async def backfill(self, project_id: str, events: list[dict[str, Any]]) -> AppendResult:
        """History from PostHog (`usertrail import posthog`): stored as received, never
        relayed back (core.relay.relayable)."""
        now = self._clock()
        raws = [
            to_raw_event(e, project_id=project_id, sent_at=None, now=now, source="backfill")
            for e in events
        ]
        return await self._store(raws, "backfill")

    def _counters(self, source: str) -> tuple[Counter, Counter]:
        """The accepted and duplicate counters of `source`, looked up once: prometheus_client's
        labels() takes a lock and builds a key on every call."""
        counters = self._by_source.get(source)
        if counters is None:
            events = self._metrics.events
            counters = (events.labels("accepted", source), events.labels("duplicate", source))
            self._by_source[source] = counters
        return counters

    async def _store(self, events: list[RawEvent], source: str) -> AppendResult:
        if not events:
            raise BadPayload("no events in request")
        result = await self._log.append(events)
        if self._bus is not None:
            # The raw log is the point of acceptance; the bus carries the work to workers.
            # Duplicates are published too: the first attempt may have committed and then
            # died before publishing, and the client's retry is what finishes the job. But
            # as the log holds them: the retry's copy has its own receipt time and so its
            # own skew-corrected timestamp, and a worker that derived from it would store
            # state that no replay of the log gives (or whichever copy it took first).
            if result.duplicates:
                events = await self._log.as_logged(events)
            await self._bus.publish(events)
        accepted, duplicate = self._counters(source)
        accepted.inc(result.accepted)
        if result.duplicates:
            duplicate.inc(result.duplicates)
        if result.accepted:
            self._on_stored()
        return result
