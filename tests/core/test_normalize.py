"""RawEvent -> Event over realistic posthog-js events."""

from __future__ import annotations

from typing import Any

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.factories import click, make_raw, pageview
from usertrail.core.normalize import MAX_KEPT_PROPERTIES, normalize
from usertrail.demo.project import DEMO_PROJECT_FILE
from usertrail.model.config import ProjectConfig
from usertrail.project_file import load_project_file

ACME = load_project_file(DEMO_PROJECT_FILE)
PLAN_CARD_CLICK = (
    'button.btn:attr__class="btn"nth-child="2"nth-of-type="1"text="Choose Pro";'
    'div.plan-card:attr__class="plan-card"attr__data-ph-component="plan-picker"nth-child="1";'
    "body"
)
EXPORT_CLICK = 'button:attr__data-attr="export"text="Export CSV";div.toolbar'


def test_same_raw_event_gives_an_equal_event() -> None:
    raw = click("/settings/billing", PLAN_CARD_CLICK)
    assert normalize(raw, ACME) == normalize(raw, ACME)


def test_click_on_acme_plan_card_is_placed_and_named() -> None:
    event = normalize(click("/settings/billing", PLAN_CARD_CLICK), ACME)
    assert (event.kind, event.page, event.component, event.element) == (
        "click",
        "Billing",
        "Plan picker",
        "button 'Choose Pro'",
    )


def test_funnel_click_selectors_matched_by_the_chain_are_recorded() -> None:
    event = normalize(click("/settings/billing", PLAN_CARD_CLICK), ACME)
    assert event.matched == (".plan-card button",)


def test_pageviews_match_no_click_selectors() -> None:
    assert normalize(pageview("/settings/billing"), ACME).matched == ()


def test_click_on_a_configured_feature_selector_is_a_use_of_the_feature() -> None:
    event = normalize(click("/reports/42", EXPORT_CLICK), ACME)
    assert (event.kind, event.feature, event.page) == ("click", "Report export", "Report")


def test_configured_feature_event_is_a_feature_use() -> None:
    event = normalize(make_raw("report_exported", properties={"format": "csv"}), ACME)
    assert (event.kind, event.feature, event.label) == (
        "feature",
        "Report export",
        "Used feature Report export",
    )


def test_the_caller_may_give_the_use_ordinal() -> None:
    event = normalize(make_raw("report_exported"), ACME, uses=5)
    assert event.label == "Used feature Report export (5th time)"


def test_a_feature_may_have_its_own_readable_name() -> None:
    config = ProjectConfig.model_validate(
        {"features": {"export": {"name": "CSV export", "events": ["report_exported"]}}}
    )
    assert normalize(make_raw("report_exported"), config).feature == "CSV export"


def test_older_elements_array_is_read_when_there_is_no_chain() -> None:
    raw = make_raw(
        "$autocapture",
        properties={
            "$current_url": "https://app.acme.test/settings",
            "$event_type": "click",
            "$elements": [
                {"tag_name": "button", "$el_text": "Save", "nth_child": 1},
                {"tag_name": "form", "attr__id": "profile-form"},
            ],
        },
    )
    assert normalize(raw, ACME).label == "Clicked 'Save' button in Profile form on Settings"


def test_session_url_path_and_route_come_from_posthog_properties() -> None:
    raw = pageview("/reports/42?tab=chart#x", properties={"$session_id": "s_1"})
    event = normalize(raw, ACME)
    assert (event.session_id, event.url, event.path, event.route) == (
        "s_1",
        "https://app.acme.test/reports/42?tab=chart#x",
        "/reports/42",
        "/reports/:id",
    )


def test_path_is_cleaned_of_invisible_characters() -> None:
    event = normalize(pageview("/settings\u202e/billing"), ACME)
    assert event.path == "/settings/billing"


def test_mobile_screens_are_named_by_the_sdk() -> None:
    raw = make_raw("$screen", properties={"$screen_name": "Checkout"})
    assert normalize(raw, ACME).label == "Viewed Checkout"


def test_kept_properties_are_custom_finite_scalars_only() -> None:
    props: dict[str, Any] = {
        "$browser": "Chrome",
        "plan": "pro\u200b",
        "seats": 3,
        "trial": False,
        "ratio": float("nan"),
        "huge": 2**80,
        "items": [1, 2],
        "token": "phc_x",
    }
    kept = normalize(make_raw("plan_selected", properties=props), ACME).properties
    assert kept == {"plan": "pro", "seats": 3, "trial": False}


def test_kept_properties_are_bounded() -> None:
    props = {f"p{i}": "v" * 1000 for i in range(100)}
    kept = normalize(make_raw("bulk", properties=props), ACME).properties
    assert len(kept) == MAX_KEPT_PROPERTIES
    assert all(isinstance(v, str) and len(v) <= 200 for v in kept.values())


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)
_KEYS = st.sampled_from(
    [
        "$current_url",
        "$pathname",
        "$elements_chain",
        "$elements",
        "$event_type",
        "$session_id",
        "$title",
        "$screen_name",
        "$exception_list",
        "$exception_message",
        "$raw_user_agent",
        "$browser",
        "$prev_pageview_duration",
        "$prev_pageview_max_scroll_percentage",
        "feature",
        "failure_reason",
        "plan",
    ]
)
_NAMES = st.sampled_from(
    [
        "$pageview",
        "$pageleave",
        "$autocapture",
        "$rageclick",
        "$dead_click",
        "$exception",
        "$identify",
        "$screen",
        "feature_used",
        "report_exported",
        "export_failed",
        "x",
    ]
)


@settings(max_examples=300)
@given(_NAMES, st.dictionaries(_KEYS | st.text(max_size=8), _JSON, max_size=8))
def test_normalize_never_raises_and_its_event_encodes(name: str, props: dict[str, Any]) -> None:
    event = normalize(make_raw(name, properties=props), ACME)
    msgspec.json.encode(event)
