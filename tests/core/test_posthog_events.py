"""PostHog's own events read as what they mean: updates are state, the rest are facts."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import make_event, make_raw
from usertrail.core.aggregates import counter_keys
from usertrail.core.process import derive
from usertrail.model.config import ProjectConfig
from usertrail.model.raw import LoggedEvent

BILLING = {"$current_url": "https://app.acme.test/settings/billing"}
CASES: list[tuple[str, str, dict[str, Any], str, str]] = [
    (
        "flag-variant",
        "$feature_flag_called",
        {"$feature_flag": "new-checkout", "$feature_flag_response": "test"},
        "flag",
        "Exposed to feature flag 'new-checkout' (variant 'test')",
    ),
    (
        "flag-off",
        "$feature_flag_called",
        {"$feature_flag": "beta", "$feature_flag_response": False},
        "flag",
        "Exposed to feature flag 'beta' (off)",
    ),
    (
        "enrollment",
        "$feature_enrollment_update",
        {"$feature_flag": "ai-search", "$feature_enrollment": True},
        "flag",
        "Joined early access to 'ai-search'",
    ),
    (
        "survey-shown-js",
        "survey shown",
        {"$survey_name": "NPS", "$survey_id": "s-1"},
        "survey",
        "Was shown survey 'NPS'",
    ),
    (
        "survey-sent-per-question",
        "survey sent",
        {"$survey_name": "NPS", "$survey_response_q1": 9},
        "survey",
        "Answered survey 'NPS': '9'",
    ),
    (
        "survey-dismissed-dollar",
        "$survey_dismissed",
        {"$survey_name": "Churn"},
        "survey",
        "Dismissed survey 'Churn'",
    ),
    (
        "slow-page",
        "$web_vitals",
        {**BILLING, "$web_vitals_LCP_value": 4210.5, "$web_vitals_CLS_value": 0.02},
        "slow_page",
        "Slow page load on Billing: LCP 4.2 s (poor)",
    ),
    (
        "fast-page",
        "$web_vitals",
        {**BILLING, "$web_vitals_FCP_value": 640},
        "vitals",
        "Page load on Billing: FCP 640 ms (good)",
    ),
    (
        "llm-call",
        "$ai_generation",
        {"$ai_model": "gpt-4o-mini", "$ai_latency": 1.234, "$ai_span_name": "summarize"},
        "llm",
        "Got an AI answer for 'summarize' (gpt-4o-mini, 1.2 s)",
    ),
    (
        "llm-error",
        "$ai_generation",
        {"$ai_model": "gpt-4o", "$ai_is_error": True, "$ai_error": "Rate limit exceeded"},
        "error",
        "Hit an error: AI generation failed (gpt-4o): 'Rate limit exceeded'",
    ),
    (
        "llm-error-object",
        "$ai_span",
        {"$ai_error": {"message": "tool crashed"}},
        "error",
        "Hit an error: AI step failed: 'tool crashed'",
    ),
    ("embedding", "$ai_embedding", {"$ai_model": "te-3"}, "llm", "Had text embedded by AI (te-3)"),
    (
        "copy",
        "$copy_autocapture",
        {**BILLING, "$copy_type": "copy", "$selected_content": "INV-2026-001"},
        "copy",
        "Copied 'INV-2026-001' on Billing",
    ),
    (
        "tour",
        "product tour completed",
        {"$product_tour_name": "Welcome"},
        "tour",
        "Completed product tour 'Welcome'",
    ),
    (
        "mcp-tool",
        "$mcp_tool_call",
        {"$mcp_tool_name": "search_docs", "$mcp_duration_ms": 120},
        "llm",
        "Called MCP tool 'search_docs'",
    ),
    (
        "mcp-tool-error",
        "$mcp_tool_call",
        {"$mcp_tool_name": "search_docs", "$mcp_is_error": True},
        "error",
        "Hit an error: MCP tool call failed (search_docs)",
    ),
    ("mcp-listing", "$mcp_tools_list", {}, "state", "SDK bookkeeping"),
    ("set", "$set", {"$set": {"plan": "pro"}}, "state", "Updated person properties"),
    ("set-once", "$set_once", {"$set_once": {"a": 1}}, "state", "Updated person properties"),
    (
        "group-identify",
        "$groupidentify",
        {"$group_type": "company", "$group_key": "acme", "$group_set": {"plan": "pro"}},
        "state",
        "Updated company 'acme'",
    ),
    ("opt-in", "$opt_in", {}, "state", "SDK bookkeeping"),
]


@pytest.mark.parametrize(
    ("name", "props", "kind", "label"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_posthog_events_have_their_own_kind_and_sentence(
    name: str, props: dict[str, Any], kind: str, label: str
) -> None:
    event = make_event(make_raw(name, properties=props))
    assert (event.kind, event.label) == (kind, label)


@pytest.mark.parametrize("name", ["$set", "$set_once", "$groupidentify", "$opt_in"])
def test_person_and_group_updates_are_not_activity(name: str) -> None:
    event = make_event(make_raw(name, properties={"$set": {"plan": "pro"}}))
    assert counter_keys(event, ProjectConfig()) == []


def test_no_posthog_event_reads_as_triggered() -> None:
    for _, name, props, _, _ in CASES:
        assert not make_event(make_raw(name, properties=props)).label.startswith("Triggered")


def test_an_llm_error_counts_as_an_error() -> None:
    event = make_event(make_raw("$ai_generation", properties={"$ai_is_error": True}))
    assert "error:AI generation failed" in counter_keys(event, ProjectConfig())


def test_a_group_identify_under_a_made_up_id_makes_no_person() -> None:
    raw = make_raw(
        "$groupidentify",
        distinct_id="$company_acme",
        properties={"$group_type": "company", "$group_key": "acme", "$group_set": {"seats": 4}},
    )
    derived = derive([LoggedEvent(seq=1, raw=raw)], lambda _p: ProjectConfig())
    assert derived.seen == ()
    assert [u.set for _, u in derived.group_updates] == [{"seats": 4}]


def test_a_backend_set_updates_the_person_without_making_them_active() -> None:
    raw = make_raw("$set", distinct_id="user_1", properties={"$set": {"plan": "pro"}})
    derived = derive([LoggedEvent(seq=1, raw=raw)], lambda _p: ProjectConfig())
    assert derived.seen == ()
    assert [u.set for _, _, u in derived.updates] == [{"plan": "pro"}]
