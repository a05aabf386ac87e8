"""Behaviour signals, read from the context the real pipeline builds for a trace."""

from __future__ import annotations

from typing import Any

from usertrail.model.config import ProjectConfig
from usertrail.model.context import UserContext
from usertrail.retrieval.evaluation.cases import EvalCase, TraceStep, trace_events
from usertrail.retrieval.evaluation.replay import context_of
from usertrail.retrieval.signals import W_ERROR_NOW, W_PAGE, behaviour_signals, summary_features

CONFIG = ProjectConfig.model_validate(
    {
        "pages": {"/reports/:id": "Report", "/settings/billing": "Billing"},
        "features": {
            "report_export": {"events": ["report_exported"], "clicks": ["[data-attr=export]"]}
        },
    }
)


def context(*steps: dict[str, Any]) -> UserContext:
    trace = tuple(TraceStep.model_validate(step) for step in steps)
    case = EvalCase(id="t", question="?", expected="x", ambiguous=True, trace=trace)
    return context_of(trace_events(case), CONFIG, "user_1")


def test_the_current_page_is_the_page_of_the_latest_event() -> None:
    ctx = context({"pageview": "/settings/billing"}, {"pageview": "/reports/7"})
    current, before = [s for s in behaviour_signals(ctx) if s.kind == "page"]
    assert (current.value, current.weight) == ("Report", W_PAGE)
    assert current.reason == "the user is on Report"
    assert before.value == "Billing"
    assert before.reason == "the user visited Billing"
    assert before.weight < current.weight


def test_pages_of_an_earlier_session_count_less_than_those_of_the_last() -> None:
    ctx = context(
        {"pageview": "/settings/billing"}, {"wait_minutes": 120}, {"pageview": "/reports/7"}
    )
    later = context({"pageview": "/settings/billing"}, {"pageview": "/reports/7"})
    [billing] = [s for s in behaviour_signals(ctx) if s.value == "Billing"]
    [same_session] = [s for s in behaviour_signals(later) if s.value == "Billing"]
    assert billing.weight < same_session.weight


def test_every_click_text_is_a_signal_and_the_latest_weighs_most() -> None:
    ctx = context(
        {"pageview": "/settings/billing"},
        {"click": "Compare plans"},
        {"click": "Cancel subscription"},
    )
    clicks = [s for s in behaviour_signals(ctx) if s.kind == "click"]
    assert [c.value for c in clicks] == ["Compare plans", "Cancel subscription"]
    assert clicks[0].weight < clicks[1].weight
    assert clicks[1].terms == ("cancel", "subscription")
    assert clicks[1].reason == "the user clicked 'Cancel subscription'"


def test_an_undeclared_custom_event_is_a_signal_with_its_details() -> None:
    ctx = context(
        {"pageview": "/reports/7"}, {"event": "report_deleted", "properties": {"kind": "pie"}}
    )
    [event] = [s for s in behaviour_signals(ctx) if s.kind == "event"]
    assert event.value == "Report deleted (kind 'pie')"
    assert event.terms == ("report", "deleted", "kind", "pie")
    assert event.reason == "the user triggered Report deleted (kind 'pie')"


def test_one_rage_click_is_already_a_struggle() -> None:
    ctx = context({"pageview": "/reports/7"}, {"rageclick": "Export"})
    [struggle] = [s for s in behaviour_signals(ctx) if s.kind == "struggle"]
    assert struggle.value == "Report"
    assert struggle.reason == "the user rage-clicked 'Export' on Report"


def test_a_rage_clicked_elements_text_is_a_click_too() -> None:
    ctx = context({"pageview": "/reports/7"}, {"rageclick": "Sync now"})
    [click] = [s for s in behaviour_signals(ctx) if s.kind == "click"]
    assert click.value == "Sync now"


def test_a_feature_declared_by_a_click_selector_reaches_retrieval() -> None:
    ctx = context({"pageview": "/reports/7"}, {"click": "Export", "attr": "export"})
    [feature] = [s for s in behaviour_signals(ctx) if s.kind == "feature"]
    assert feature.value == "Report export"
    assert feature.reason == "the user used Report export in the last session"


def test_the_features_of_a_session_summary_are_read_with_their_counts_left_out() -> None:
    summary = "3-minute session: opened Report twice; used Report export 3 times and Sharing once."
    assert summary_features(summary) == ["Report export", "Sharing"]
    assert summary_features("1-second session: opened Report once.") == []


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
