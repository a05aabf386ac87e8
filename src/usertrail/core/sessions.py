"""Sessions: posthog-js's `$session_id` when present, else a split at 30 minutes of inactivity.

Events are ordered by (timestamp, uuid) — uuid v7 breaks ties — so out-of-order arrival gives
the same sessions, and derived session ids come from their first event ("d-<uuid>").
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from usertrail.model.event import Event
from usertrail.model.session import SessionSpan

DEFAULT_TIMEOUT = timedelta(minutes=30)


def event_order(e: Event) -> tuple[datetime, str]:
    return (e.timestamp, e.uuid)


def sessionize(events: Iterable[Event], timeout: timedelta = DEFAULT_TIMEOUT) -> list[SessionSpan]:
    ordered = sorted({e.uuid: e for e in events}.values(), key=event_order)
    groups: dict[str, list[Event]] = {}
    current: list[Event] = []
    for e in ordered:
        if e.session_id:
            groups.setdefault(e.session_id, []).append(e)
            continue
        if current and e.timestamp - current[-1].timestamp > timeout:
            groups[f"d-{current[0].uuid}"] = current
            current = []
        current.append(e)
    if current:
        groups[f"d-{current[0].uuid}"] = current
    spans = [_span(sid, members) for sid, members in groups.items()]
    return sorted(spans, key=lambda s: (s.start, s.id))


def _span(session_id: str, members: list[Event]) -> SessionSpan:
    return SessionSpan(
        id=session_id,
        start=members[0].timestamp,
        end=members[-1].timestamp,
        event_uuids=tuple(e.uuid for e in members),
    )
