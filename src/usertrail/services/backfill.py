"""`usertrail import posthog`: a project's history, paged out of PostHog's query API and
written through the ingest path (deduplicated by uuid at the raw log, so re-runs and overlaps
with live traffic are safe), resuming after a crash from the position saved after each page."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Protocol

from usertrail.core.backfill import Position, Skipped, page_query, read_page
from usertrail.core.relay import backoff_s, default_rand
from usertrail.errors import BadPayload, Throttled, UpstreamUnreachable
from usertrail.model.relay import QueryAnswer
from usertrail.services.ingest import IngestService

STORE_CHUNK = 5_000  # raw-log appends per transaction: each well inside the append timeout
SKIPPED_KEPT = 100  # rows skipped that are named at the end (all are counted)


class QuerySource(Protocol):
    async def run(self, body: dict[str, Any]) -> QueryAnswer: ...


class ImportCursors(Protocol):
    async def import_cursor(self, name: str) -> str | None: ...

    async def set_import_cursor(self, name: str, value: str, now: datetime) -> None: ...


Progress = Callable[[int, Position], None]  # events stored by a page, and where it ended


class Backfill:
    def __init__(
        self,
        source: QuerySource,
        ingest: IngestService,
        cursors: ImportCursors,
        clock: Callable[[], datetime],
        *,
        page_size: int,
        max_attempts: int = 8,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        on_wait: Callable[[str, float], None] = lambda _why, _s: None,
        on_warn: Callable[[str], None] = lambda _why: None,
    ) -> None:
        self._source = source
        self._ingest = ingest
        self._cursors = cursors
        self._clock = clock
        self._page_size = page_size
        self._max_attempts = max_attempts
        self._sleep = sleep
        self._on_wait = on_wait
        self._on_warn = on_warn
        self.stored = 0  # new to the raw log (the rest were there already: re-runs, overlaps)
        self.skipped = 0  # rows that are no event capture would take: not stored
        self.skipped_rows: list[Skipped] = []  # the first SKIPPED_KEPT of them

    async def resume_point(self, name: str) -> Position | None:
        """The saved position; None when there is none, or it cannot be read (the import
        starts again from the beginning: deduplicated by uuid, nothing is stored twice)."""
        saved = await self._cursors.import_cursor(name)
        try:
            return Position.decode(saved) if saved else None
        except BadPayload as exc:
            self._on_warn(f"{exc.detail}: importing again from the start (nothing twice)")
            return None

    async def run(
        self,
        name: str,
        project_id: str,
        since: datetime,
        until: datetime | None,
        on_page: Progress = lambda _n, _at: None,
    ) -> int:
        """Import every page after the saved position; returns how many events were read."""
        after, total = await self.resume_point(name), 0
        while True:
            answer = await self._fetch(page_query(since, until, after, self._page_size))
            page = read_page(answer.columns, answer.results)
            if page.end is None:
                return total
            await self._store(project_id, page.events)
            self._skip(page.skipped)
            await self._cursors.set_import_cursor(name, page.end.encode(), self._clock())
            total += len(page.events)
            on_page(len(page.events), page.end)
            if page.rows < self._page_size:
                return total
            after = page.end

    async def _store(self, project_id: str, events: list[dict[str, Any]]) -> None:
        for start in range(0, len(events), STORE_CHUNK):
            result = await self._ingest.backfill(project_id, events[start : start + STORE_CHUNK])
            self.stored += result.accepted

    def _skip(self, rows: list[Skipped]) -> None:
        self.skipped += len(rows)
        self.skipped_rows += rows[: SKIPPED_KEPT - len(self.skipped_rows)]

    async def _fetch(self, body: dict[str, Any]) -> QueryAnswer:
        """One page; 429 waits as long as PostHog asks, outages back off; both give up after
        `max_attempts` (the saved position makes a re-run continue from here)."""
        for attempt in range(self._max_attempts):
            try:
                return await self._source.run(body)
            except Throttled as exc:
                wait, why = float(exc.retry_after_s or 60), "PostHog throttled the query"
            except UpstreamUnreachable as exc:
                wait, why = backoff_s(attempt, base_s=1.0, rand=default_rand), exc.detail
            if attempt + 1 < self._max_attempts:
                self._on_wait(why, wait)
                await self._sleep(wait)
        raise UpstreamUnreachable(f"PostHog did not answer after {self._max_attempts} tries")
