"""Event kind and a readable label: "Clicked 'Upgrade to Pro' button in Plan picker on Billing"."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import msgspec

from usertrail.core.posthog_events import llm_error_message, posthog_kind, sentence
from usertrail.core.text import clean_text, humanize, ordinal, quote

_ERROR_NAME = re.compile(r"(?i)(_failed$|_failure$|error|exception|crash)")
_IDENTITY = frozenset(("$identify", "$create_alias", "$merge_dangerously"))
_AUTOCAPTURE_KINDS = {"click": "click", "submit": "submit", "change": "change"}
# Property keys never shown as a custom event's detail: ids say nothing, secrets and contact
# details must not reach a prompt through a label.
_HIDDEN_KEY = re.compile(
    r"(?i)(^|_)(id|ids|uuid|token|ip|url)$|password|secret|email|phone|api_?key|auth|session"
)
MESSAGE_CHARS = 120
CODE_CHARS = 40
_REASON_KEYS = ("failure_reason", "error", "error_message", "message", "reason")
_CODE_KEYS = ("code", "error_code", "errorCode")
MAX_SECONDS = 7 * 24 * 3600
INTERACTIONS = frozenset(("click", "submit", "change", "rageclick", "deadclick"))


class LabelParts(msgspec.Struct, frozen=True, kw_only=True):
    kind: str
    name: str
    page: str | None = None
    component: str | None = None
    element: str | None = None  # "button 'Upgrade'": the role is its first word
    element_text: str | None = None
    feature: str | None = None
    uses: int | None = None  # this is the person's n-th use of `feature` (counted elsewhere)
    properties: Mapping[str, Any] = msgspec.field(default_factory=dict)
    distinct_id: str = ""


def classify(name: str, props: Mapping[str, Any], feature: str | None) -> str:
    if (kind := posthog_kind(name, props)) is not None:
        return kind
    if name in ("$pageview", "$screen"):
        return "pageview"
    if name == "$pageleave":
        return "pageleave"
    if name == "$autocapture":
        return _AUTOCAPTURE_KINDS.get(str(props.get("$event_type", "click")), "click")
    if name == "$rageclick":
        return "rageclick"
    if name in ("$dead_click", "$dead_swipe"):  # posthog-js; a swipe on mobile web
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
        case kind if kind in INTERACTIONS:
            return _interaction(p, on)
        case "error":
            return f"Hit an error: {error_message(p.name, p.properties)}{on}"
        case "identify":
            return f"Identified as {quote(clean_text(p.distinct_id, 60))}"
        case "feature":
            return f"Used feature {p.feature}{_nth(p.uses)}"
        case "custom":
            return _custom(p.name, p.properties) + on
    return sentence(p.kind, p.name, p.properties, p.page)


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
            verb = "Swiped with no effect on" if p.name == "$dead_swipe" else "Dead click on"
            return f"{verb} {text or p.element or 'an element'}{on}"
    return f"Clicked {f'{text} {role}' if text else role}{where}"


def _nth(uses: int | None) -> str:
    return f" ({ordinal(uses)} time)" if uses and uses > 0 else ""


def _leave_details(props: Mapping[str, Any]) -> str:
    parts = []
    duration = _number(props.get("$prev_pageview_duration"))
    if duration is not None and 0 <= duration <= MAX_SECONDS:
        parts.append(f" after {_seconds(duration)}")
    scroll = _number(props.get("$prev_pageview_max_scroll_percentage"))
    if scroll is not None and 0 <= scroll <= 100:
        percent = scroll * 100 if scroll <= 1 else scroll  # posthog-js sends 0..1
        parts.append(f" (scrolled {round(percent)}%)")
    return "".join(parts)


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _seconds(value: float) -> str:
    if value < 120:
        return f"{round(value)} s"
    return f"{round(value / 60)} min" if value < 7200 else f"{round(value / 3600)} h"


def error_message(name: str, props: Mapping[str, Any]) -> str:
    """The exception (`$exception_list[0]`, or the older `$exception_type`/`_message`), else the
    humanized event name with its reason: "Generation failed ('timeout')". An error code the
    event carries (`code`, `error_code`, or inside `error`/`$ai_error`) is kept with it:
    "Export failed (code 'E43')"."""
    if name.startswith(("$ai_", "$mcp_")):
        return _with_code(llm_error_message(name, props), props)
    exceptions = props.get("$exception_list")
    if isinstance(exceptions, list | tuple) and exceptions and isinstance(exceptions[0], dict):
        first = exceptions[0]
        return _with_code(_exception(first.get("type"), first.get("value")), props)
    if name == "$exception":
        message = _exception(props.get("$exception_type"), props.get("$exception_message"))
        return _with_code(message, props)
    reason = _reason(props)
    details = [quote(reason)] if reason else []
    if (code := error_code(props)) and code not in (reason or ""):
        details.append(f"code {quote(code)}")
    return f"{_event_name(name)} ({', '.join(details)})" if details else _event_name(name)


def _reason(props: Mapping[str, Any]) -> str | None:
    for key in _REASON_KEYS:
        value = props.get(key)
        if isinstance(value, dict):  # an error object: {"message": ..., "code": ...}
            value = value.get("message")
        if isinstance(value, str) and (cleaned := clean_text(value, MESSAGE_CHARS)):
            return cleaned
    return None


def _with_code(message: str, props: Mapping[str, Any]) -> str:
    code = error_code(props)
    return f"{message} (code {quote(code)})" if code and code not in message else message


def error_code(props: Mapping[str, Any], depth: int = 0) -> str | None:
    """The code an SDK or an app sent with an error, wherever it put it: `code`,
    `error_code`, `errorCode`, an HTTP error `status`, or inside an `error` or `$ai_error`
    object."""
    for key in _CODE_KEYS:
        value = props.get(key)
        scalar = isinstance(value, str | int) and not isinstance(value, bool)
        if scalar and (code := clean_text(str(value), CODE_CHARS)):
            return code
    status = props.get("status_code", props.get("status"))
    if isinstance(status, int) and not isinstance(status, bool) and 400 <= status <= 599:
        return str(status)  # an HTTP error status: "status" alone may be any word
    for key in ("error", "$ai_error", "$mcp_error"):
        inner = props.get(key)
        if isinstance(inner, dict) and depth < 2 and (found := error_code(inner, depth + 1)):
            return found
    return None


def _exception(kind: Any, message: Any) -> str:
    text = f"{kind if isinstance(kind, str) and kind else 'Error'}: "
    text += message if isinstance(message, str) else ""
    return quote(clean_text(text.rstrip(": "), MESSAGE_CHARS))


def _custom(name: str, props: Mapping[str, Any]) -> str:
    details = [
        f"{clean_text(k, 30)} {quote(clean_text(str(v), 40))}"
        for k, v in list(props.items())[:200]
        if _is_detail(k, v)
    ][:2]
    suffix = f" ({', '.join(details)})" if details else ""
    return f"Triggered {_event_name(name)}{suffix}"


def _event_name(name: str) -> str:
    return clean_text(humanize(name.lstrip("$")), 60) or "an event"


def _is_detail(key: Any, value: Any) -> bool:
    return (
        isinstance(key, str)
        and not key.startswith("$")
        and key not in ("token", "distinct_id")
        and not _HIDDEN_KEY.search(key)
        and isinstance(value, str | int | float)
        and not isinstance(value, bool)
        and str(value).strip() != ""
    )
