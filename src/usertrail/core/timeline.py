"""A person's recent events as the dashboard shows them: sessions, newest first, each a list
of labelled events (page -> component -> element), newest first."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from usertrail.core.context.snapshot import describe_device
from usertrail.core.sessions import session_length, sessionize
from usertrail.model.event import Event
from usertrail.model.session import SessionSpan
from usertrail.model.timeline import TimelineEvent, TimelineSession


def timeline(events: Sequence[Event], timeout: timedelta) -> list[TimelineSession]:
    by_uuid = {e.uuid: e for e in events}
    spans = sessionize(by_uuid.values(), timeout)
    return [_session(span, by_uuid) for span in reversed(spans)]


def _session(span: SessionSpan, by_uuid: dict[str, Event]) -> TimelineSession:
    return TimelineSession(
        id=span.id,
        start=span.start,
        end=span.end,
        duration_s=int(span.duration.total_seconds()),
        length=session_length(int(span.duration.total_seconds())),
        device=describe_device(span.device),
        pages=span.pages,
        events=tuple(timeline_event(by_uuid[u]) for u in reversed(span.event_uuids)),
    )


def timeline_event(e: Event) -> TimelineEvent:
    return TimelineEvent(
        uuid=e.uuid,
        ts=e.timestamp,
        name=e.name,
        kind=e.kind,
        label=e.label,
        page=e.page,
        component=e.component,
        element=e.element,
        path=e.path,
    )
