"""A session, structured (SessionSnapshot) and in one or two sentences a person would write."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from usertrail.core.context.safe import MAX_CHARS, safe, safe_id
from usertrail.core.context.untrusted import Trusted, event_label
from usertrail.core.text import duration_words, plural, quote, times
from usertrail.model.context import SessionSnapshot
from usertrail.model.event import Device, Event
from usertrail.model.session import SessionSpan

# posthog-js's device types, browser and OS names (its `detectBrowser`, `detectOS`): anything
# else a capture call sent is shown quoted.
KNOWN_DEVICE_WORDS = frozenset(
    (
        *("desktop", "mobile", "tablet", "console", "wearable", "chrome", "safari", "firefox"),
        *("opera", "edge", "microsoft", "internet", "explorer", "samsung", "ios", "android"),
        *("webview", "facebook", "ucbrowser", "konqueror", "blackberry", "brave", "yandex"),
        *("whale", "vivaldi", "duckduckgo", "linux", "windows", "mac", "os", "x", "chrome"),
    )
)
KEY_KINDS = (
    *("click", "submit", "change", "feature", "rageclick", "deadclick", "custom"),
    *("survey", "llm", "copy", "tour"),  # PostHog's own facts (core.posthog_events)
)
ERROR_PREFIX = "Hit an error: "


def snapshot(
    span: SessionSpan, events: Sequence[Event], trusted: Trusted, mask_pii: bool = True
) -> SessionSnapshot:
    """`events` are the span's events in chronological order (at least one). The duration is
    the span's, as on the dashboard's timeline."""
    return SessionSnapshot(
        id=safe_id(span.id, mask_pii=mask_pii),
        start=span.start,
        end=span.end,
        duration_s=int(span.duration.total_seconds()),
        event_count=len(events),
        device=safe(describe_device(next((e.device for e in events if e.device), None))),
        pages=tuple(_dedupe_runs(_pages(events, trusted, mask_pii))),
        key_actions=_key_actions(events, trusted, mask_pii),
        errors=_errors(events, trusted, mask_pii),
    )


def _key_actions(events: Sequence[Event], trusted: Trusted, mask_pii: bool) -> tuple[str, ...]:
    """The last 10 actions, repeats in a row collapsed; only those are made safe (it costs)."""
    keys = [e for e in events if e.kind in KEY_KINDS]
    runs = [e for i, e in enumerate(keys) if i == 0 or keys[i - 1].label != e.label][-10:]
    return tuple(_dedupe_runs(event_label(e, trusted, mask_pii, MAX_CHARS) for e in runs))


def _errors(events: Sequence[Event], trusted: Trusted, mask_pii: bool) -> tuple[str, ...]:
    first = {e.label: e for e in reversed(events) if e.kind == "error"}  # the earliest of each
    ordered = sorted(first.values(), key=lambda e: e.timestamp)[:5]
    return tuple(dict.fromkeys(event_label(e, trusted, mask_pii, MAX_CHARS) for e in ordered))


def summarize(snap: SessionSnapshot, events: Sequence[Event], trusted: Trusted) -> str:
    """E.g. "Session of 12 minutes on desktop Chrome: opened Billing twice and 'Reports' once;
    used Report export 3 times. Hit an error: 'Export failed'."."""
    parts = [_pages_phrase(events, trusted), _features_phrase(events, trusted)]
    if not parts[0]:  # no URLs (a backend, a mobile app without screens): say what they did
        parts.append(_actions_phrase(events, trusted))
    body = "; ".join(p for p in parts if p) or plural(snap.event_count, "event")
    where = f" on {_device(snap.device)}" if snap.device else ""
    sentence = f"Session of {duration_words(snap.duration_s)}{where}: {body}."
    return sentence + _errors_phrase(snap.errors)


def _errors_phrase(errors: tuple[str, ...]) -> str:
    """One error: "Hit an error: X."; more: "Hit 3 different errors, the first: X."."""
    if not errors:
        return ""
    first = errors[0].removeprefix(ERROR_PREFIX)
    if len(errors) == 1:
        return f" {ERROR_PREFIX}{first}."
    return f" Hit {len(errors)} different errors, the first: {first}."


def _pages(events: Sequence[Event], trusted: Trusted, mask_pii: bool) -> Iterable[str]:
    for e in events:
        if e.kind == "pageview" and e.page:
            yield safe(e.page, mask_pii=mask_pii) or ""


def describe_device(device: Device | None) -> str | None:
    if device is None:
        return None
    kind = (device.device_type or "").lower()
    words = [w for w in (kind, device.browser) if w]
    return " ".join(words) or device.os


def _device(device: str) -> str:
    known = all(w.lower() in KNOWN_DEVICE_WORDS for w in device.split())
    return device if known else quote(device)


def _named(name: str, trusted: Trusted) -> str:
    """A page or feature name as prose shows it: quoted unless the project file declares it."""
    return name if name in trusted.names else quote(name)


def _pages_phrase(events: Sequence[Event], trusted: Trusted) -> str:
    counts = Counter(e.page for e in events if e.kind == "pageview" and e.page)
    if not counts:
        return ""
    items = [f"{_named(page, trusted)} {times(n)}" for page, n in counts.most_common(4)]
    return "opened " + _join(items)


def _features_phrase(events: Sequence[Event], trusted: Trusted) -> str:
    counts = Counter(e.feature for e in events if e.feature)
    if not counts:
        return ""
    pages = {e.page for e in events if e.kind == "pageview"}
    items = [
        # "opened Data sources once; used the Data sources feature once", not the same twice.
        f"{'the ' + _named(name, trusted) + ' feature' if name in pages else _named(name, trusted)}"
        f" {times(n)}"
        for name, n in counts.most_common(3)
    ]
    return "used " + _join(items)


def _actions_phrase(events: Sequence[Event], trusted: Trusted) -> str:
    """E.g. "clicked 'Racing Raptor' image 12 times and got an AI answer once"."""
    labels = [
        event_label(e, trusted, True, 120)
        for e in events
        if e.kind in KEY_KINDS and not e.feature and e.label
    ]
    counts = Counter(label[:1].lower() + label[1:] for label in labels)
    return _join([f"{label} {times(n)}" for label, n in counts.most_common(3)]) if counts else ""


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _dedupe_runs(items: Iterable[str]) -> list[str]:
    """Drop immediate repeats: Billing, Billing, Reports -> Billing, Reports."""
    out: list[str] = []
    for item in items:
        if item and (not out or out[-1] != item):
            out.append(item)
    return out
