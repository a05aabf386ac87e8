"""Sessions: posthog-js's `$session_id` when present, else one per run of activity; either way
a session ends after 30 minutes of inactivity (PostHog's rule, also inside one `$session_id`:
an id reused for days is many sessions).

Events are deduplicated by uuid and ordered by (timestamp, uuid) — uuid v7 breaks ties in
send order — before anything is grouped or split, so out-of-order arrival and retries give
the same sessions. A session without an id is named after its first event ("d-<uuid>"); the
later parts of a split `$session_id` are "<id>/<first event uuid>".
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
    spans = [span(session_id, members) for session_id, members in sessions(events, timeout)]
    return sorted(spans, key=lambda s: (s.start, s.id))


def sessions(
    events: Iterable[Event], timeout: timedelta = DEFAULT_TIMEOUT
) -> list[tuple[str, list[Event]]]:
    """Each session's id and its events in order, unsorted: what `sessionize` makes spans of
    (a caller that wants one span need not pay for them all)."""
    ordered = sorted({e.uuid: e for e in events}.values(), key=event_order)
    groups: dict[str, list[Event]] = {}
    for session_id, members in _by_session_id(ordered).items():
        for i, run in enumerate(_runs(members, timeout)):
            groups[session_id if i == 0 else f"{session_id}/{run[0].uuid}"] = run
    for run in _runs([e for e in ordered if not e.session_id], timeout):
        groups[f"d-{run[0].uuid}"] = run
    return list(groups.items())


def _by_session_id(ordered: Sequence[Event]) -> dict[str, list[Event]]:
    groups: dict[str, list[Event]] = {}
    for e in ordered:
        if e.session_id:
            groups.setdefault(e.session_id, []).append(e)
    return groups


def _runs(ordered: Sequence[Event], timeout: timedelta) -> list[list[Event]]:
    """Split where the gap between two events is longer than `timeout`."""
    runs: list[list[Event]] = []
    for e in ordered:
        if runs and e.timestamp - runs[-1][-1].timestamp <= timeout:
            runs[-1].append(e)
        else:
            runs.append([e])
    return runs


def span(session_id: str, members: Sequence[Event]) -> SessionSpan:
    """The session of these events (in order)."""
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
