"""What the events PostHog's own SDKs send mean, and a sentence for each.

The names come from PostHog's source: posthog-js (`@posthog/types` `KnownEventName` and
`KnownUnsafeEditableEvent`, `@posthog/core` `knownUnsafeEditableEvent`, the surveys and product
tours extensions, which send `survey shown` / `survey sent` / `survey dismissed` without a `$`),
and posthog-python (`client.py`: `$set`, `$set_once`, `$groupidentify`, `$create_alias`,
`$feature_flag_called`, `$exception`; `ai/`: `$ai_generation`, `$ai_span`, `$ai_embedding`,
`$ai_trace`, `$ai_metric`, `$ai_feedback`; `mcp/`: `$mcp_tool_call` and its siblings).

Kinds given here (the rest are in core.labels): `state` (a person or group update, or SDK
plumbing: it changes what we know, it is not something the user did), `flag` (a feature flag or
experiment exposure, an early-access enrolment), `survey`, `vitals` (page-load metrics;
`slow_page` when one is poor), `llm` (an LLM or MCP call the product made for the user),
`copy` and `tour`. A failed LLM or MCP call is an `error`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from usertrail.core.text import clean_text, quote

STATE = "state"
SLOW_PAGE = "slow_page"  # a `$web_vitals` with a metric over Google's "poor" threshold
# Person and group updates: they change properties, they are not activity.
UPDATE_EVENTS = frozenset(("$set", "$set_once", "$groupidentify"))
# SDK plumbing: consent, recordings, heatmaps, the SDK's own warnings.
PLUMBING_EVENTS = frozenset(
    (
        "$opt_in",
        "$snapshot",
        "$$heatmap",
        "$heatmaps_data",
        "$$client_ingestion_warning",
        "$client_ingestion_warning",
        # posthog-python's MCP analytics: the protocol's listings, not something the user did.
        "$mcp_tools_list",
        "$mcp_prompts_list",
        "$mcp_resources_list",
    )
)
STATE_EVENTS = UPDATE_EVENTS | PLUMBING_EVENTS
FLAG_EVENTS = frozenset(
    ("$feature_flag_called", "$web_experiment_applied", "$feature_enrollment_update")
)
_SURVEY_VERBS = {
    "shown": "Was shown",
    "sent": "Answered",
    "dismissed": "Dismissed",
    "abandoned": "Abandoned",
}
LLM_EVENTS = frozenset(
    (
        "$ai_generation",
        "$ai_span",
        "$ai_embedding",
        "$ai_trace",
        "$ai_metric",
        "$ai_feedback",
        "$mcp_tool_call",
        "$mcp_initialize",
        "$mcp_resource_read",
        "$mcp_prompt_get",
        "$mcp_feedback",
        "$mcp_missing_capability",
        "$mcp_unknown_tool",
        "$mcp_custom",
    )
)
_TOUR_VERBS = {
    "product tour shown": "Was shown",
    "product tour completed": "Completed",
    "product tour dismissed": "Dismissed",
}
# Google's "poor" thresholds (web.dev/vitals): above them a page is slow for its users.
POOR = {"LCP": 4000.0, "INP": 500.0, "CLS": 0.25, "FCP": 3000.0}
GOOD = {"LCP": 2500.0, "INP": 200.0, "CLS": 0.1, "FCP": 1800.0}
NAME_CHARS = 60
ERROR_CHARS = 120


_SURVEY_ACTIONS = {
    f"{prefix}{action}": action for prefix in ("survey ", "$survey_") for action in _SURVEY_VERBS
}
# One dict lookup per event (this runs for every event the processor sees).
_KINDS = {
    **dict.fromkeys(STATE_EVENTS, STATE),
    **dict.fromkeys(FLAG_EVENTS, "flag"),
    **dict.fromkeys(_SURVEY_ACTIONS, "survey"),
    **dict.fromkeys(_TOUR_VERBS, "tour"),
    "$copy_autocapture": "copy",
}


def posthog_kind(name: str, props: Mapping[str, Any]) -> str | None:
    """The kind of an event PostHog's SDKs send, or None for any other event."""
    if (kind := _KINDS.get(name)) is not None:
        return kind
    if name in LLM_EVENTS:
        return "error" if llm_failed(props) else "llm"
    if name == "$web_vitals":
        return SLOW_PAGE if slow_metrics(props) else "vitals"
    return "tour" if name.startswith("product tour ") else None


def is_activity(kind: str) -> bool:
    """Whether an event of this kind is something the user did (an event line, a session,
    an active day). Updates and plumbing are not."""
    return kind != STATE


def survey_action(name: str) -> str | None:
    """posthog-js sends `survey shown`; older SDKs and docs spell it `$survey_shown`."""
    return _SURVEY_ACTIONS.get(name)


def llm_failed(props: Mapping[str, Any]) -> bool:
    """`$ai_is_error` (or `$mcp_is_error`), or an `$ai_error` with something in it."""
    if props.get("$ai_is_error") is True or props.get("$mcp_is_error") is True:
        return True
    error = props.get("$ai_error")
    return error not in (None, "", False, {}, [])


def sentence(kind: str, name: str, props: Mapping[str, Any], page: str | None) -> str:
    """The label of an event of a kind given here."""
    on = f" on {page}" if page else ""
    match kind:
        case "flag":
            return _flag(name, props)
        case "survey":
            return _survey(name, props)
        case "vitals" | "slow_page":
            return _vitals(props, page)
        case "llm":
            return _llm(name, props)
        case "copy":
            return _copy(props) + on
        case "tour":
            return _tour(name, props)
    return _state(name, props)


def llm_error_message(name: str, props: Mapping[str, Any]) -> str:
    """E.g. "AI generation failed (gpt-4o): 'Rate limit exceeded'"."""
    what = _LLM_NOUNS.get(name, "MCP call" if name.startswith("$mcp_") else "AI call")
    model = _text(props.get("$ai_model") or props.get("$mcp_tool_name"))
    detail = _error_text(props.get("$ai_error") or props.get("$mcp_error"))
    return f"{what} failed{f' ({model})' if model else ''}{f': {quote(detail)}' if detail else ''}"


_LLM_NOUNS = {
    "$ai_generation": "AI generation",
    "$ai_span": "AI step",
    "$ai_embedding": "AI embedding",
    "$ai_trace": "AI run",
    "$ai_metric": "AI evaluation",
    "$ai_feedback": "AI feedback",
    "$mcp_tool_call": "MCP tool call",
}


def _flag(name: str, props: Mapping[str, Any]) -> str:
    if name == "$feature_enrollment_update":
        flag = _named(props.get("$feature_flag"), "a feature")
        joined = props.get("$feature_enrollment") is not False
        return f"{'Joined' if joined else 'Left'} early access to {flag}"
    if name == "$web_experiment_applied":
        experiment = _named(props.get("$web_experiment_name"), "a web experiment")
        variant = _text(props.get("$web_experiment_variant"))
        return f"Saw web experiment {experiment}" + (
            f" (variant {quote(variant)})" if variant else ""
        )
    flag = _named(props.get("$feature_flag"), "a feature flag")
    return f"Exposed to feature flag {flag}{_flag_value(props.get('$feature_flag_response'))}"


def _flag_value(value: Any) -> str:
    if value is True:
        return " (on)"
    if value is False or value is None:
        return " (off)"
    text = _text(value)
    return f" (variant {quote(text)})" if text else ""


def _survey(name: str, props: Mapping[str, Any]) -> str:
    action = survey_action(name) or "shown"
    survey = _named(props.get("$survey_name"), "a survey")
    text = f"{_SURVEY_VERBS[action]} survey {survey}"
    answer = _survey_answer(props) if action == "sent" else None
    return f"{text}: {quote(answer)}" if answer else text


def _survey_answer(props: Mapping[str, Any]) -> str | None:
    """The first question's answer: `$survey_response`, else the first `$survey_response_<id>`."""
    value = props.get("$survey_response")
    if value is None:
        value = next(
            (v for k, v in props.items() if k.startswith("$survey_response_") and v is not None),
            None,
        )
    if isinstance(value, list | tuple):
        value = ", ".join(str(v) for v in value[:5])
    return _text(value)


def vitals(props: Mapping[str, Any]) -> dict[str, float]:
    """The metrics of a `$web_vitals` event that carry a finite value, by name."""
    found = {}
    for metric in POOR:
        value = props.get(f"$web_vitals_{metric}_value")
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            found[metric] = float(value)
    return found


def slow_metrics(props: Mapping[str, Any]) -> dict[str, float]:
    """The metrics over Google's "poor" threshold."""
    return {m: v for m, v in vitals(props).items() if v > POOR[m]}


def _vitals(props: Mapping[str, Any], page: str | None) -> str:
    measured = vitals(props)
    where = page or "a page"
    if not measured:
        return f"Page-load metrics for {where}"
    slow = slow_metrics(props)
    shown = slow or measured
    figures = ", ".join(f"{m} {_metric(m, v)}" for m, v in shown.items())
    if slow:
        return f"Slow page load on {where}: {figures} (poor)"
    fast = all(v <= GOOD[m] for m, v in measured.items())
    return f"Page load on {where}: {figures} ({'good' if fast else 'needs improvement'})"


def _metric(metric: str, value: float) -> str:
    if metric == "CLS":
        return f"{value:.2f}"
    return f"{value / 1000:.1f} s" if value >= 1000 else f"{round(value)} ms"


def _llm(name: str, props: Mapping[str, Any]) -> str:
    details = _llm_details(props)
    match name:
        case "$ai_generation":
            what = _span_name(props, "Got an AI answer", "Got an AI answer for")
        case "$ai_span":
            what = _span_name(props, "Ran an AI step", "Ran AI step")
        case "$ai_embedding":
            what = "Had text embedded by AI"
        case "$ai_trace":
            what = _span_name(props, "Finished an AI run", "Finished AI run")
        case "$ai_metric":
            return _ai_metric(props)
        case "$ai_feedback":
            text = _text(props.get("$ai_feedback_text"))
            return "Gave feedback on an AI answer" + (f": {quote(text)}" if text else "")
        case _:
            return _mcp(name, props)
    return what + (f" ({details})" if details else "")


_MCP_TARGETS = {
    "$mcp_tool_call": ("Called MCP tool", "$mcp_tool_name", "an MCP tool"),
    "$mcp_unknown_tool": ("Called unknown MCP tool", "$mcp_tool_name", "an unknown MCP tool"),
    "$mcp_resource_read": ("Read MCP resource", "$mcp_resource_name", "an MCP resource"),
    "$mcp_prompt_get": ("Used MCP prompt", "$mcp_prompt_name", "an MCP prompt"),
    "$mcp_initialize": ("Connected MCP client", "$mcp_client_name", "an MCP client"),
}


def _mcp(name: str, props: Mapping[str, Any]) -> str:
    """posthog-python's MCP server analytics (`posthog.mcp`)."""
    if name in _MCP_TARGETS:
        verb, key, fallback = _MCP_TARGETS[name]
        named = _text(props.get(key))
        return f"{verb} {quote(named)}" if named else f"{verb.split(' ', 1)[0]} {fallback}"
    if name == "$mcp_feedback":
        text = _text(props.get("$mcp_feedback"), ERROR_CHARS)
        return "Gave feedback through MCP" + (f": {quote(text)}" if text else "")
    if name == "$mcp_missing_capability":
        return "Asked the MCP server for something it cannot do"
    return "Sent an MCP event"


def _span_name(props: Mapping[str, Any], bare: str, named: str) -> str:
    span = _text(props.get("$ai_span_name") or props.get("$ai_trace_name"))
    return f"{named} {quote(span)}" if span else bare


def _llm_details(props: Mapping[str, Any]) -> str:
    parts = []
    if model := _text(props.get("$ai_model")):
        parts.append(model)
    latency = _seconds(props.get("$ai_latency"))
    if latency is not None:
        parts.append(f"{latency:.1f} s")
    return ", ".join(parts)


def _seconds(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value) if 0 <= value < 86_400 else None
    return None


def _ai_metric(props: Mapping[str, Any]) -> str:
    metric = _named(props.get("$ai_metric_name"), "an AI answer")
    value = _text(props.get("$ai_metric_value"))
    return f"Rated {metric}" + (f": {quote(value)}" if value else "")


def _copy(props: Mapping[str, Any]) -> str:
    verb = "Cut" if props.get("$copy_type") == "cut" else "Copied"
    content = _text(props.get("$selected_content"), 40)
    return f"{verb} {quote(content)}" if content else f"{verb} text"


def _tour(name: str, props: Mapping[str, Any]) -> str:
    tour = _named(props.get("$product_tour_name"), "a product tour")
    verb = _TOUR_VERBS.get(name)
    if verb:
        return f"{verb} product tour {tour}"
    return f"Product tour {tour}: {clean_text(name.removeprefix('product tour '), 40)}"


def _state(name: str, props: Mapping[str, Any]) -> str:
    if name == "$groupidentify":
        kind = _text(props.get("$group_type")) or "group"
        key = _text(props.get("$group_key"))
        return f"Updated {kind} {quote(key)}" if key else f"Updated a {kind}"
    if name in UPDATE_EVENTS:
        return "Updated person properties"
    return "SDK bookkeeping"


def _named(value: Any, fallback: str) -> str:
    text = _text(value)
    return quote(text) if text else fallback


def _text(value: Any, limit: int = NAME_CHARS) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str | int | float):
        return clean_text(str(value), limit) or None
    return None


def _error_text(value: Any) -> str | None:
    """`$ai_error` is a string, or the provider's error object (its `message` says it)."""
    if isinstance(value, dict):
        inner = value.get("message") or value.get("error")
        return _error_text(inner) if inner is not value else None
    return _text(value, ERROR_CHARS) if not isinstance(value, list | tuple) else None
