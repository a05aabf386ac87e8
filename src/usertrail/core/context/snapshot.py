"""A session, structured (SessionSnapshot) and in one or two sentences a person would write."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from usertrail.core.sessions import length_parts
from usertrail.core.text import plural, times
from usertrail.model.context import SessionSnapshot
from usertrail.model.event import Device, Event

KEY_KINDS = (
    "click",
    "submit",
    "change",
    "feature",
    "rageclick",
    "deadclick",
    "custom",
    "survey",
    "llm",
    "copy",
    "tour",
)


def snapshot(session_id: str, events: Sequence[Event]) -> SessionSnapshot:
    """`events` are the session's events in chronological order (at least one)."""
    start, end = events[0].timestamp, events[-1].timestamp
    pages = _dedupe_runs(e.page for e in events if e.kind == "pageview" and e.page)
    return SessionSnapshot(
        id=session_id,
        start=start,
        end=end,
        duration_s=int((end - start).total_seconds()),
        event_count=len(events),
        device=describe_device(next((e.device for e in events if e.device), None)),
        pages=tuple(pages),
        key_actions=tuple(_dedupe_runs(e.label for e in events if e.kind in KEY_KINDS))[-10:],
        errors=tuple(dict.fromkeys(e.label for e in events if e.kind == "error"))[:5],
    )


def summarize(snap: SessionSnapshot, events: Sequence[Event]) -> str:
    """E.g. "12-minute session on desktop Chrome: opened Billing twice and Reports once; used
    Report export 3 times. Hit 1 error: Export failed."."""
    parts = [_pages_phrase(events), _features_phrase(events)]
    if not parts[0]:  # no URLs (a backend, a mobile app without screens): say what they did
        parts.append(_actions_phrase(events))
    body = "; ".join(p for p in parts if p) or plural(snap.event_count, "event")
    where = f" on {snap.device}" if snap.device else ""
    sentence = f"{_duration(snap.duration_s)} session{where}: {body}."
    if snap.errors:
        sentence += (
            f" Hit {len(snap.errors)} error{'s' if len(snap.errors) > 1 else ''}: {snap.errors[0]}."
        )
    return sentence


def describe_device(device: Device | None) -> str | None:
    if device is None:
        return None
    kind = (device.device_type or "").lower()
    words = [w for w in (kind, device.browser) if w]
    return " ".join(words) or device.os


def _pages_phrase(events: Sequence[Event]) -> str:
    counts = Counter(e.page for e in events if e.kind == "pageview" and e.page)
    if not counts:
        return ""
    items = [f"{page} {times(n)}" for page, n in counts.most_common(4)]
    return "opened " + _join(items)


def _features_phrase(events: Sequence[Event]) -> str:
    counts = Counter(e.feature for e in events if e.feature)
    if not counts:
        return ""
    return "used " + _join([f"{name} {times(n)}" for name, n in counts.most_common(3)])


def _actions_phrase(events: Sequence[Event]) -> str:
    """E.g. "clicked 'Racing Raptor' image 12 times and got an AI answer once"."""
    labels = [e.label for e in events if e.kind in KEY_KINDS and not e.feature and e.label]
    counts = Counter(label[:1].lower() + label[1:] for label in labels)
    return _join([f"{label} {times(n)}" for label, n in counts.most_common(3)]) if counts else ""


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _duration(seconds: int) -> str:
    """ "16-second": the dashboard's "16 seconds" (core.sessions.length_parts) as an adjective."""
    return "-".join(length_parts(seconds))


def _dedupe_runs(items: object) -> list[str]:
    """Drop immediate repeats: Billing, Billing, Reports -> Billing, Reports."""
    out: list[str] = []
    for item in items:  # type: ignore[attr-defined]
        if isinstance(item, str) and (not out or out[-1] != item):
            out.append(item)
    return out
