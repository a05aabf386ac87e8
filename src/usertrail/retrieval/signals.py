"""Behaviour signals from a user's context: where they are and were, what they clicked, used,
triggered and hit. Pure.

Read from the same `UserContext` the chatbot gets, so retrieval sees what the prompt says.
Every event counts, the latest most: a signal's weight is its kind's weight times how recent
it is. How *specific* a signal is (a page that 12 articles name says less than one that two
name) is decided later, against the articles (`evidence`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

from usertrail.core.text import quote, times
from usertrail.model.context import ContextEvent, Pattern, UserContext
from usertrail.retrieval.model import Signal, SignalKind
from usertrail.retrieval.text import terms

SIGNAL_EVENTS = 50  # how many recent events of the context the signals read
MAX_FEATURES = 3
MAX_ERRORS = 3
# Weights: what is happening now outweighs what happened before; an error or a struggle says
# more about what the user needs than a page or an ordinary click does.
W_PAGE = 0.5
W_ERROR_NOW = 0.5  # an error in the last session
W_ERROR_BEFORE = 0.25
W_FUNNEL = 0.35
W_STRUGGLE = 0.3
W_FEATURE = 0.25
W_CLICK = 0.25
W_EVENT = 0.3  # a custom event the project file does not declare
RECENCY = 0.85  # each later event in the last session halves a weight in about 4 steps
EARLIER_SESSION = 0.5  # an event of an earlier session counts half, on top of its recency
# A rage or dead click is a click too: its element's text says what the user was after.
INTERACTIONS = frozenset(("click", "submit", "change", "rageclick", "deadclick"))

# The context quotes a feature name that came from an event ("Used feature 'AI report'").
_FEATURE_LABEL = re.compile(r"^Used feature '?(.+?)'?(?: \(\d+\w\w time\))?$")
_QUOTED = re.compile(r"'(.+)'")
_CUSTOM = re.compile(r"^Triggered (.+?)(?: on [^()]+)?$")
_USED = re.compile(r"\bused (.+?)(?:\.(?: |$)|;|$)")
_TIMES = re.compile(r" (?:once|twice|\d+ times)$")
_LEADING_QUOTED = re.compile(r"^'([^']*)'")
_ERROR_PREFIX = "Hit an error: "


def behaviour_signals(ctx: UserContext) -> tuple[Signal, ...]:
    events = ctx.recent_events[-SIGNAL_EVENTS:]
    weights = recency_weights(events, ctx.last_session.start if ctx.last_session else None)
    return merged(
        (
            *_pages(events, weights),
            *_errors(ctx),
            *_funnels(ctx.patterns),
            *_struggles(ctx.patterns),
            *_rage_clicks(events, weights),
            *_features(ctx),
            *_clicks(events, weights),
            *_custom_events(events, weights),
        )
    )


def recency_weights(events: Sequence[ContextEvent], last_start: datetime | None) -> list[float]:
    """1 for the latest event, less for each one after it; half again for earlier sessions.
    By time, as in `_errors`: a `$session_id` can hold several sessions."""
    n = len(events)
    return [
        RECENCY ** (n - 1 - i) * (EARLIER_SESSION if last_start and e.ts < last_start else 1)
        for i, e in enumerate(events)
    ]


def merged(signals: Iterable[Signal]) -> tuple[Signal, ...]:
    """One signal per (kind, value): the strongest occurrence, in the order first seen."""
    best: dict[tuple[str, str], Signal] = {}
    for s in signals:
        key = (s.kind, s.value)
        if key not in best or s.weight > best[key].weight:
            best[key] = s
    return tuple(best.values())


def _pages(events: Sequence[ContextEvent], weights: Sequence[float]) -> Iterator[Signal]:
    """The current page (the latest event's), then the pages visited before it."""
    current = next((e.page for e in reversed(events) if e.page), None)
    for event, weight in reversed(list(zip(events, weights, strict=True))):
        if event.page:
            now = event.page == current
            reason = f"the user is on {event.page}" if now else f"the user visited {event.page}"
            yield _signal("page", event.page, event.page, W_PAGE * (1 if now else weight), reason)


def _signal(kind: SignalKind, value: str, words: str, weight: float, reason: str) -> Signal:
    return Signal(kind=kind, value=value, terms=tuple(terms(words)), weight=weight, reason=reason)


def _errors(ctx: UserContext) -> Iterator[Signal]:
    # By time, not by `$session_id`: one id can hold several sessions (30 idle minutes
    # split it), and the last session is the newest, so its events are those since its start.
    start = ctx.last_session.start if ctx.last_session else None
    now: Counter[str] = Counter()
    before: Counter[str] = Counter()
    for event in ctx.recent_events:
        if event.type == "error":
            (now if start and event.ts >= start else before)[error_text(event)] += 1
    repeated = {str(p.evidence.get("error")): p for p in ctx.patterns if "repeated_error" in p.id}
    for message in _latest_first(ctx.recent_events, set(now) | set(before))[:MAX_ERRORS]:
        count, in_last = (now[message], True) if message in now else (before[message], False)
        yield error_signal(message, count, in_last, repeated.get(message))


def error_signal(message: str, count: int, in_last: bool, pattern: Pattern | None) -> Signal:
    when = "in the last session" if in_last else "recently"
    total = pattern.evidence.get("count") if pattern else None
    overall = f" ({total} times in all)" if isinstance(total, int) and total > count else ""
    return Signal(
        kind="error",
        value=message,
        terms=tuple(terms(message)),
        weight=W_ERROR_NOW if in_last else W_ERROR_BEFORE,
        reason=f"the user hit the error {message} {times(count)} {when}{overall}",
    )


def error_text(event: ContextEvent) -> str:
    """The message of an error event's label, without "Hit an error: " and " on <page>"."""
    message = event.label.removeprefix(_ERROR_PREFIX)
    if not event.page:
        return message
    # The context quotes a page named by its URL, not one the project file names.
    for suffix in (f" on {event.page}", f" on {quote(event.page)}"):
        message = message.removesuffix(suffix)
    return message


def _latest_first(events: tuple[ContextEvent, ...], messages: set[str]) -> list[str]:
    order = [error_text(e) for e in reversed(events) if e.type == "error"]
    return [m for m in dict.fromkeys(order) if m in messages]


def _funnels(patterns: tuple[Pattern, ...]) -> Iterator[Signal]:
    for p in patterns:
        funnel = p.evidence.get("funnel")
        if p.id.endswith("_abandonment") and isinstance(funnel, str):
            first = str(p.evidence.get("first_step", ""))
            yield Signal(
                kind="funnel",
                value=funnel,
                terms=tuple(terms(f"{funnel} {first}")),
                weight=W_FUNNEL,
                reason=f"the user started {funnel.replace('_', ' ')} "
                f"{times(int(p.evidence.get('starts', 0)))} without finishing it",
            )


def _struggles(patterns: tuple[Pattern, ...]) -> Iterator[Signal]:
    for p in patterns:
        if p.id.startswith(("rageclicks:", "deadclicks:")):
            element, page = str(p.evidence.get("element", "")), str(p.evidence.get("page", ""))
            verb = "rage-clicked" if p.id.startswith("rage") else "clicked with no effect on"
            where = f" on {page}" if page else ""  # events without a URL name no page
            yield _signal(
                "struggle",
                page or element,
                f"{element} {page}",
                W_STRUGGLE,
                f"the user {verb} {element}{where} {times(int(p.evidence.get('count', 0)))}",
            )


def _rage_clicks(events: Sequence[ContextEvent], weights: Sequence[float]) -> Iterator[Signal]:
    """One rage or dead click is already a struggle: the user expected something to happen."""
    for event, weight in zip(events, weights, strict=True):
        if event.type in ("rageclick", "deadclick") and event.page:
            text = element_text(event) or "an element"
            verb = "rage-clicked" if event.type == "rageclick" else "clicked with no effect on"
            reason = f"the user {verb} '{text}' on {event.page}"
            yield _signal(
                "struggle", event.page, f"{text} {event.page}", W_STRUGGLE * weight, reason
            )


def element_text(event: ContextEvent) -> str | None:
    """The text of the element an interaction was on: "button 'Export'" -> "Export"."""
    match = _QUOTED.search(event.element or "")
    return match.group(1) if match else None


def _clicks(events: Sequence[ContextEvent], weights: Sequence[float]) -> Iterator[Signal]:
    """Every click's text ("Cancel subscription", "Add filter") is evidence of what the user
    was doing; how much it says depends on how few articles it matches."""
    for event, weight in zip(events, weights, strict=True):
        if event.type in INTERACTIONS and (text := element_text(event)):
            reason = f"the user clicked '{text}'"
            yield _signal("click", text, text, W_CLICK * weight, reason)


def _custom_events(events: Sequence[ContextEvent], weights: Sequence[float]) -> Iterator[Signal]:
    """Events the project file does not declare ("Triggered Template used (template 'x')"):
    their name and details are words like any other."""
    for event, weight in zip(events, weights, strict=True):
        label = event.label
        if event.page:
            for suffix in (f" on {event.page}", f" on {quote(event.page)}"):
                label = label.removesuffix(suffix)
        if event.type == "custom" and (match := _CUSTOM.match(label)):
            name = _LEADING_QUOTED.sub(r"\1", match.group(1))  # the context quotes the name
            yield _signal("event", name, name, W_EVENT * weight, f"the user triggered {name}")


def _features(ctx: UserContext) -> Iterator[Signal]:
    """Feature events, and features the last session's summary names: a click that a project
    file's selector declares as a feature use (the Export button) is counted there."""
    used = [
        m.group(1)
        for e in ctx.recent_events
        if e.type == "feature"
        if (m := _FEATURE_LABEL.match(e.label))
    ]
    counts = Counter(used)
    names = [*reversed(used), *summary_features(ctx.last_session_summary or "")]
    for name in list(dict.fromkeys(names))[:MAX_FEATURES]:
        reason = (
            f"the user used {name} {times(counts[name])} recently"
            if counts[name]
            else (f"the user used {name} in the last session")
        )
        yield _signal("feature", name, name, W_FEATURE, reason)


def summary_features(summary: str) -> list[str]:
    """ "…: opened Report twice; used Report export 3 times and Sharing once." -> the names."""
    match = _USED.search(summary)
    if not match:
        return []
    items = re.split(r", | and ", match.group(1))
    return [_feature_name(_TIMES.sub("", item)) for item in items if _TIMES.search(item)]


def _feature_name(text: str) -> str:
    """ "the Data sources feature" (a feature named like a page) and "'AI report'" (a name
    from an event, quoted) -> the name."""
    text = text.strip()
    if text.startswith("the ") and text.endswith(" feature"):
        text = text.removeprefix("the ").removesuffix(" feature")
    return _LEADING_QUOTED.sub(r"\1", text)
