"""Event kind and a readable label: "Clicked 'Upgrade to Pro' button in Plan picker on Billing"."""

from __future__ import annotations

import re
from typing import Any

import msgspec

from usertrail.core.text import clean_text, humanize, quote

_ERROR_NAME = re.compile(r"(?i)(_failed$|_failure$|error|exception|crash)")
_IDENTITY = frozenset(("$identify", "$create_alias", "$merge_dangerously"))
_AUTOCAPTURE_KINDS = {"click": "click", "submit": "submit", "change": "change"}
MESSAGE_CHARS = 120


class LabelParts(msgspec.Struct, frozen=True, kw_only=True):
    kind: str
    name: str
    page: str | None = None
    component: str | None = None
    element: str | None = None
    element_text: str | None = None
    feature: str | None = None
    properties: dict[str, Any] = msgspec.field(default_factory=dict)
    distinct_id: str = ""


def classify(name: str, props: dict[str, Any], feature: str | None) -> str:
    if name == "$pageview" or name == "$screen":
        return "pageview"
    if name == "$pageleave":
        return "pageleave"
    if name == "$autocapture":
        return _AUTOCAPTURE_KINDS.get(str(props.get("$event_type", "click")), "click")
    if name == "$rageclick":
        return "rageclick"
    if name == "$dead_click":
        return "deadclick"
    if name in _IDENTITY:
        return "identify"
    if name == "$exception" or _ERROR_NAME.search(name):
        return "error"
    return "feature" if feature else "custom"


def label(p: LabelParts) -> str:
    on = f" on {p.page}" if p.page else ""
    match p.kind:
        case "pageview":
            return f"Viewed {p.page or 'a page'}"
        case "pageleave":
            return f"Left {p.page or 'a page'}{_leave_details(p.properties)}"
        case "click" | "submit" | "change" | "rageclick" | "deadclick":
            return _interaction(p, on)
        case "error":
            return f"Hit an error: {error_message(p.name, p.properties)}"
        case "identify":
            return f"Identified as {quote(clean_text(p.distinct_id, 60))}"
        case "feature":
            return f"Used feature {p.feature}"
    return _custom(p.name, p.properties) + on


def _interaction(p: LabelParts, on: str) -> str:
    """Clicks, form submits, field changes, rage and dead clicks on an element."""
    where = (f" in {p.component}" if p.component else "") + on
    text = quote(p.element_text) if p.element_text else None
    role = (p.element or "element").split(" ", 1)[0]
    match p.kind:
        case "submit":
            return f"Submitted form{' ' + text if text else ''}{where}"
        case "change":
            return f"Changed {text + ' ' if text else ''}field{where}"
        case "rageclick":
            return f"Rage-clicked {text or p.element or 'an element'}{on}"
        case "deadclick":
            return f"Dead click on {text or p.element or 'an element'}{on}"
    return f"Clicked {f'{text} {role}' if text else role}{where}"


def _leave_details(props: dict[str, Any]) -> str:
    parts = []
    duration = props.get("$prev_pageview_duration")
    if isinstance(duration, int | float) and not isinstance(duration, bool) and duration >= 0:
        parts.append(f" after {_seconds(duration)}")
    scroll = props.get("$prev_pageview_max_scroll_percentage")
    if isinstance(scroll, int | float) and not isinstance(scroll, bool) and 0 <= scroll <= 100:
        percent = scroll * 100 if scroll <= 1 else scroll
        parts.append(f" (scrolled {round(percent)}%)")
    return "".join(parts)


def _seconds(value: float) -> str:
    return f"{round(value)} s" if value < 120 else f"{round(value / 60)} min"


def error_message(name: str, props: dict[str, Any]) -> str:
    exceptions = props.get("$exception_list")
    if isinstance(exceptions, list) and exceptions and isinstance(exceptions[0], dict):
        first = exceptions[0]
        message = f"{first.get('type') or 'Error'}: {first.get('value') or ''}".rstrip(": ")
        return quote(clean_text(message, MESSAGE_CHARS))
    for key in ("$exception_message", "failure_reason", "error", "message", "reason"):
        value = props.get(key)
        if isinstance(value, str) and value.strip():
            return f"{humanize(name)} ({quote(clean_text(value, MESSAGE_CHARS))})"
    return humanize(name)


def _custom(name: str, props: dict[str, Any]) -> str:
    details = [
        f"{clean_text(str(k), 30)} {quote(clean_text(str(v), 40))}"
        for k, v in props.items()
        if _is_detail(k, v)
    ][:2]
    suffix = f" ({', '.join(details)})" if details else ""
    return f"Triggered {humanize(name.lstrip('$'))}{suffix}"


def _is_detail(key: Any, value: Any) -> bool:
    return (
        isinstance(key, str)
        and not key.startswith("$")
        and key not in ("token", "distinct_id")
        and isinstance(value, str | int | float)
        and not isinstance(value, bool)
    )
