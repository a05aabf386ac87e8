"""Sessions: posthog-js's `$session_id` when present, else a split at 30 minutes of inactivity.

Events are deduplicated by uuid and ordered by (timestamp, uuid) — uuid v7 breaks ties in
send order — before anything is grouped or split, so out-of-order arrival and retries give
the same sessions. A derived session is named after its first event ("d-<uuid>").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from usertrail.model.event import Event
from usertrail.model.session import SessionSpan

DEFAULT_TIMEOUT = timedelta(minutes=30)


def event_order(e: Event) -> tuple[datetime, str]:
    """The canonical order of events: time, then uuid (v7 uuids sort in send order)."""
    return (e.timestamp, e.uuid)


def sessionize(events: Iterable[Event], timeout: timedelta = DEFAULT_TIMEOUT) -> list[SessionSpan]:
    """Sessions of one person's events, sorted by (start, id)."""
    ordered = sorted({e.uuid: e for e in events}.values(), key=event_order)
    groups = _by_session_id(ordered)
    groups.update(_by_inactivity([e for e in ordered if not e.session_id], timeout))
    spans = [_span(session_id, members) for session_id, members in groups.items()]
    return sorted(spans, key=lambda s: (s.start, s.id))


def _by_session_id(ordered: Sequence[Event]) -> dict[str, list[Event]]:
    groups: dict[str, list[Event]] = {}
    for e in ordered:
        if e.session_id:
            groups.setdefault(e.session_id, []).append(e)
    return groups


def _by_inactivity(ordered: Sequence[Event], timeout: timedelta) -> dict[str, list[Event]]:
    runs: list[list[Event]] = []
    for e in ordered:
        if runs and e.timestamp - runs[-1][-1].timestamp <= timeout:
            runs[-1].append(e)
        else:
            runs.append([e])
    return {f"d-{run[0].uuid}": run for run in runs}


def _span(session_id: str, members: Sequence[Event]) -> SessionSpan:
    return SessionSpan(
        id=session_id,
        distinct_ids=tuple(sorted({e.distinct_id for e in members})),
        start=members[0].timestamp,
        end=members[-1].timestamp,
        event_count=len(members),
        event_uuids=tuple(e.uuid for e in members),
        pages=_pages(members),
        device=next((e.device for e in members if e.device is not None), None),
    )


def _pages(members: Sequence[Event]) -> tuple[str, ...]:
    """Pages in visit order; several events on one page in a row are one visit."""
    pages: list[str] = []
    for e in members:
        if e.page and (not pages or pages[-1] != e.page):
            pages.append(e.page)
    return tuple(pages)
