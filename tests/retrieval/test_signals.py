"""Behaviour signals, read from the context the real pipeline builds for a trace."""

from __future__ import annotations

from typing import Any

from usertrail.model.config import ProjectConfig
from usertrail.model.context import UserContext
from usertrail.retrieval.evaluation.cases import EvalCase, TraceStep, trace_events
from usertrail.retrieval.evaluation.replay import context_of
from usertrail.retrieval.signals import W_ERROR_NOW, behaviour_signals

CONFIG = ProjectConfig.model_validate(
    {
        "pages": {"/reports/:id": "Report", "/settings/billing": "Billing"},
        "features": {"report_export": {"events": ["report_exported"]}},
    }
)


def context(*steps: dict[str, Any]) -> UserContext:
    trace = tuple(TraceStep.model_validate(step) for step in steps)
    case = EvalCase(id="t", question="?", expected="x", ambiguous=True, trace=trace)
    return context_of(trace_events(case), CONFIG, "user_1")


def test_the_current_page_is_the_page_of_the_latest_event() -> None:
    ctx = context({"pageview": "/settings/billing"}, {"pageview": "/reports/7"})
    [page] = [s for s in behaviour_signals(ctx) if s.kind == "page"]
    assert page.value == "Report"
    assert page.reason == "matches the page the user is on: Report"


def test_an_error_repeated_in_the_last_session_is_counted_with_its_code() -> None:
    boom = {"exception": "ExportError: E42 export timed out"}
    ctx = context({"pageview": "/reports/7"}, boom, boom)
    [error] = [s for s in behaviour_signals(ctx) if s.kind == "error"]
    assert error.value == "'ExportError: E42 export timed out'"
    assert "e42" in error.terms
    assert error.reason == (
        "the user hit the error 'ExportError: E42 export timed out' twice in the last session"
    )
    assert error.weight == W_ERROR_NOW


def test_an_error_from_an_earlier_session_counts_less() -> None:
    failed = {"event": "generation_failed", "properties": {"failure_reason": "timeout"}}
    ctx = context(failed, {"wait_minutes": 120}, {"pageview": "/reports/7"})
    [error] = [s for s in behaviour_signals(ctx) if s.kind == "error"]
    assert error.value == "'Generation failed' ('timeout')"
    assert error.weight < W_ERROR_NOW
    assert error.reason.endswith("once recently")


def test_recent_features_come_from_feature_events() -> None:
    ctx = context({"event": "report_exported"}, {"event": "report_exported"})
    [feature] = [s for s in behaviour_signals(ctx) if s.kind == "feature"]
    assert feature.value == "Report export"
    assert feature.reason == "the user used Report export twice recently"


def test_an_abandoned_funnel_is_a_signal() -> None:
    ctx = context(
        {"pageview": "/settings/billing"},
        {"wait_minutes": 60},
        {"pageview": "/settings/billing"},
    )
    [funnel] = [s for s in behaviour_signals(ctx) if s.kind == "funnel"]
    assert funnel.value == "plan_selection"
    assert funnel.reason == "the user started plan selection twice without finishing it"


def test_rage_clicks_are_a_struggle_on_their_page() -> None:
    rage = {"rageclick": "Choose Pro"}
    ctx = context({"pageview": "/settings/billing"}, rage, rage)
    [struggle] = [s for s in behaviour_signals(ctx) if s.kind == "struggle"]
    assert struggle.value == "Billing"
    assert "rage-clicked" in struggle.reason
