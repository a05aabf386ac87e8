"""Evaluation cases: a question, a behaviour trace, the article a human picked. Pure.

A trace step becomes the event a PostHog SDK would send for it (posthog-js property names),
so the harness runs the same enrichment and context building as the service.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from usertrail.errors import ConfigError
from usertrail.model.raw import RawEvent

APP = "https://app.acme-reports.example"
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
STEP_S = 20
SESSION_GAP_MIN = 30
DEVICE = {"$browser": "Chrome", "$os": "Mac OS X", "$device_type": "Desktop"}
_KINDS = ("pageview", "click", "rageclick", "event", "exception")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TraceStep(_Strict):
    pageview: str | None = None
    click: str | None = None
    rageclick: str | None = None
    event: str | None = None
    exception: str | None = None
    attr: str | None = None  # the clicked element's data-attr
    component: str | None = None  # a data-ph-component around it
    properties: dict[str, Any] = {}
    wait_minutes: float = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _one_kind(self) -> TraceStep:
        given = [k for k in _KINDS if getattr(self, k) is not None]
        if len(given) > 1 or (not given and not self.wait_minutes):
            raise ValueError(f"a step is one of {', '.join(_KINDS)}, or only wait_minutes")
        return self


class EvalCase(_Strict):
    id: str
    question: str
    expected: str  # the article's slug
    ambiguous: bool
    trace: tuple[TraceStep, ...] = Field(min_length=1)


class CaseFile(_Strict):
    cases: tuple[EvalCase, ...] = Field(min_length=1)


def parse_cases(text: str, source: str = "eval cases") -> tuple[EvalCase, ...]:
    try:
        cases = CaseFile.model_validate(yaml.safe_load(text)).cases
    except (yaml.YAMLError, ValidationError) as exc:
        raise ConfigError(f"{source}: {exc}") from exc
    return unique_ids(cases, source)


def unique_ids(cases: Sequence[EvalCase], source: str) -> tuple[EvalCase, ...]:
    ids = [c.id for c in cases]
    if dupes := sorted({i for i in ids if ids.count(i) > 1}):
        raise ConfigError(f"{source}: duplicate case ids {dupes}")
    return tuple(cases)


def trace_events(case: EvalCase, distinct_id: str = "user_1") -> list[RawEvent]:
    """The case's trace as raw events, one SDK event per step, sessions split by waits."""
    at, session, path = T0, 1, "/"
    events = []
    for n, step in enumerate(case.trace):
        if step.wait_minutes:
            at += timedelta(minutes=step.wait_minutes)
            session += step.wait_minutes >= SESSION_GAP_MIN
        if step.pageview is not None:
            path = step.pageview
        if _kind(step) is None:
            continue
        at += timedelta(seconds=STEP_S)
        props = {"$current_url": APP + path, "$session_id": f"s{session}", **DEVICE}
        name, extra = _event(step)
        events.append(_raw(case.id, n, name, distinct_id, at, {**props, **extra}))
    return events


def _kind(step: TraceStep) -> str | None:
    return next((k for k in _KINDS if getattr(step, k) is not None), None)


def _event(step: TraceStep) -> tuple[str, dict[str, Any]]:
    if step.pageview is not None:
        return "$pageview", {"$pathname": step.pageview}
    if step.click is not None:
        return "$autocapture", {"$event_type": "click", "$elements_chain": _chain(step, step.click)}
    if step.rageclick is not None:
        return "$rageclick", {"$elements_chain": _chain(step, step.rageclick)}
    if step.exception is not None:
        kind, _, message = step.exception.partition(": ")
        exc = {"type": kind, "value": message, "mechanism": {"handled": False}}
        return "$exception", {"$exception_list": [exc], "$exception_level": "error"}
    return str(step.event), dict(step.properties)


def _chain(step: TraceStep, text: str) -> str:
    """posthog-js `$elements_chain`: the clicked button, its component, the page's main."""
    safe = text.replace('"', "'")
    button = f'button:text="{safe}"' + (f'attr__data-attr="{step.attr}"' if step.attr else "")
    around = f'div:attr__data-ph-component="{step.component}";' if step.component else ""
    return f"{button};{around}main"


def _raw(
    case_id: str, n: int, name: str, distinct_id: str, at: datetime, props: dict[str, Any]
) -> RawEvent:
    uuid = hashlib.sha256(f"{case_id}/{n}".encode()).hexdigest()[:32]
    return RawEvent(
        project_id="eval",
        uuid=uuid,
        event=name,
        distinct_id=distinct_id,
        timestamp=at,
        received_at=at,
        source="capture",
        body={"event": name, "distinct_id": distinct_id, "properties": props},
    )
