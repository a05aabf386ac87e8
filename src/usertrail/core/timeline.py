"""A person's recent events as the dashboard shows them: sessions, newest first, each a list
of labelled events (page -> component -> element), newest first."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from usertrail.core.sessions import sessionize
from usertrail.core.text import duration_words
from usertrail.model.event import Device, Event
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
        duration=duration_words(int(span.duration.total_seconds())),
        device=device_label(span.device),
        pages=span.pages,
        events=tuple(timeline_event(by_uuid[u]) for u in reversed(span.event_uuids)),
    )


_OS_NAMES = {"Mac OS X": "Mac", "macOS": "Mac", "Chrome OS": "Chromebook"}
_SMALL_SCREENS = {"mobile": "phone", "tablet": "tablet"}


def device_label(device: Device | None) -> str | None:
    """ "Chrome on Mac", "Safari on iOS (phone)": the browser and system as people say them."""
    if device is None:
        return None
    system = _OS_NAMES.get(device.os or "", device.os)
    words = " on ".join(w for w in (device.browser, system) if w)
    screen = _SMALL_SCREENS.get((device.device_type or "").lower())
    label = f"{words} ({screen})" if words and screen else words or screen
    return label or None


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
