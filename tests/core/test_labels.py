"""Labels over realistic events: what a person would write about each one."""

from __future__ import annotations

import pytest

from tests.factories import click, make_event, make_raw, pageview
from usertrail.model.config import ProjectConfig
from usertrail.model.raw import RawEvent

UPGRADE = (
    'button.btn.hover:bg-indigo-600:text="Upgrade to Pro"nth-child="2"nth-of-type="1"'
    'attr__data-attr="upgrade";div.plan-card.md:flex:attr__data-ph-component="plan-picker";'
    'main:attr__id="content";body'
)
CONFIG = ProjectConfig.model_validate(
    {
        "pages": {"/settings/billing": "Billing", "/reports/:id": "Report"},
        "features": {"report_export": {"events": ["report_exported"]}},
    }
)

CASES: list[tuple[str, RawEvent, str]] = [
    (
        "click",
        click("/settings/billing", UPGRADE),
        "Clicked 'Upgrade to Pro' button in Plan picker on Billing",
    ),
    ("pageview", pageview("/settings/billing"), "Viewed Billing"),
    ("pageview-heuristic", pageview("/projects/123/settings"), "Viewed Settings"),
    ("pageview-root", pageview("/"), "Viewed Home"),
    (
        "pageleave",
        make_raw(
            "$pageleave",
            properties={
                "$current_url": "https://a.test/settings/billing",
                "$prev_pageview_duration": 40.2,
                "$prev_pageview_max_scroll_percentage": 0.8,
            },
        ),
        "Left Billing after 40 s (scrolled 80%)",
    ),
    (
        "rageclick",
        make_raw(
            "$rageclick",
            properties={
                "$current_url": "https://a.test/settings",
                "$elements_chain": 'button:text="Save"',
            },
        ),
        "Rage-clicked 'Save' on Settings",
    ),
    (
        "deadclick",
        make_raw(
            "$dead_click",
            properties={
                "$current_url": "https://a.test/reports/7",
                "$elements_chain": 'span:text="Export"',
            },
        ),
        "Dead click on 'Export' on Report",
    ),
    (
        "deadswipe",
        make_raw(
            "$dead_swipe",
            properties={
                "$current_url": "https://a.test/reports/7",
                "$elements_chain": 'div.carousel:attr__aria-label="Plans"',
            },
        ),
        "Swiped with no effect on 'Plans' on Report",
    ),
    (
        "icon-in-button",
        click("/reports/7", 'svg.icon;button:attr__aria-label="Download";div.toolbar'),
        "Clicked 'Download' button on Report",
    ),
    (
        "nav-link",
        click("/", 'a:text="Docs"href="/docs";nav;body'),
        "Clicked 'Docs' link in Navigation on Home",
    ),
    (
        "submit",
        make_raw(
            "$autocapture",
            properties={
                "$current_url": "https://a.test/signup",
                "$event_type": "submit",
                "$elements_chain": 'form:attr__aria-label="Signup"',
            },
        ),
        "Submitted form 'Signup' on Signup",
    ),
    (
        "exception",
        make_raw(
            "$exception",
            properties={"$exception_list": [{"type": "TypeError", "value": "x is undefined"}]},
        ),
        "Hit an error: 'TypeError: x is undefined'",
    ),
    (
        "failed-event",
        make_raw("generation_failed", properties={"failure_reason": "timeout"}),
        "Hit an error: Generation failed ('timeout')",
    ),
    (
        "failed-event-with-a-code",
        make_raw("export_failed", properties={"code": "E43"}),
        "Hit an error: Export failed (code 'E43')",
    ),
    (
        "failed-event-with-a-reason-and-an-error-code",
        make_raw("export_failed", properties={"reason": "too large", "error_code": "E43"}),
        "Hit an error: Export failed ('too large', code 'E43')",
    ),
    (
        "failed-event-with-an-http-status",
        make_raw("request_failed", properties={"status": 429}),
        "Hit an error: Request failed (code '429')",
    ),
    (
        "failed-event-with-an-error-object",
        make_raw("sync_failed", properties={"error": {"message": "refused", "code": "E21"}}),
        "Hit an error: Sync failed ('refused', code 'E21')",
    ),
    (
        "exception-with-a-code",
        make_raw(
            "$exception",
            properties={
                "$exception_list": [{"type": "ApiError", "value": "rate limited"}],
                "error_code": 429,
            },
        ),
        "Hit an error: 'ApiError: rate limited' (code '429')",
    ),
    (
        "ai-error-object-with-a-code",
        make_raw(
            "$ai_generation",
            properties={
                "$ai_is_error": True,
                "$ai_error": {"message": "too long", "code": "context_length_exceeded"},
            },
        ),
        "Hit an error: AI generation failed: 'too long' (code 'context_length_exceeded')",
    ),
    ("configured-feature", make_raw("report_exported"), "Used feature Report export"),
    (
        "feature-used",
        make_raw("feature_used", properties={"feature": "Dark mode"}),
        "Used feature Dark mode",
    ),
    (
        "pageleave-minutes",
        make_raw(
            "$pageleave",
            properties={
                "$current_url": "https://a.test/reports",
                "$prev_pageview_duration": 754,
                "$prev_pageview_max_scroll_percentage": 35,
            },
        ),
        "Left Reports after 13 min (scrolled 35%)",
    ),
    (
        "pageleave-infinite-duration",
        make_raw(
            "$pageleave",
            properties={
                "$current_url": "https://a.test/reports",
                "$prev_pageview_duration": float("inf"),
            },
        ),
        "Left Reports",
    ),
    (
        "change",
        make_raw(
            "$autocapture",
            properties={
                "$current_url": "https://a.test/settings",
                "$event_type": "change",
                "$elements_chain": 'input:attr__type="email"attr__placeholder="Email"'
                'attr__value="jane@example.com";form:attr__id="profile";body',
            },
        ),
        "Changed 'Email' field in Profile on Settings",
    ),
    (
        "exception-older-form",
        make_raw(
            "$exception",
            properties={
                "$current_url": "https://a.test/reports/7",
                "$exception_type": "RangeError",
                "$exception_message": "Invalid array length",
            },
        ),
        "Hit an error: 'RangeError: Invalid array length' on Report",
    ),
    (
        "custom-hides-ids-and-contacts",
        make_raw(
            "invite_sent",
            properties={"invitee_email": "a@b.test", "team_id": 7, "role": "admin", "seats": 3},
        ),
        "Triggered Invite sent (role 'admin', seats '3')",
    ),
    ("identify", make_raw("$identify", distinct_id="user_42"), "Identified as 'user_42'"),
    (
        "custom",
        make_raw("plan_selected", properties={"plan": "pro"}),
        "Triggered Plan selected (plan 'pro')",
    ),
]


@pytest.mark.parametrize(("raw", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_label_reads_like_a_sentence(raw: RawEvent, expected: str) -> None:
    assert make_event(raw, CONFIG).label == expected


def test_click_has_page_component_and_element() -> None:
    event = make_event(click("/settings/billing", UPGRADE), CONFIG)
    assert (event.page, event.component, event.element, event.route) == (
        "Billing",
        "Plan picker",
        "button 'Upgrade to Pro'",
        "/settings/billing",
    )


def test_configured_component_selector_wins_over_heuristics() -> None:
    config = ProjectConfig.model_validate({"components": {"div.plan-card": "Pricing table"}})
    assert make_event(click("/settings/billing", UPGRADE), config).component == "Pricing table"


def test_element_text_is_cleaned_and_bounded() -> None:
    chain = 'button:text="Save\u202e\u200b  now' + "x" * 200 + '"'
    event = make_event(click("/settings", chain))
    assert "\u202e" not in event.label
    assert "\u200b" not in event.label
    assert event.element is not None
    assert len(event.element) < 100


def test_quotes_in_element_text_cannot_close_the_label_quotes() -> None:
    event = make_event(click("/", 'button:text="it\'s"'))
    assert event.label == "Clicked 'it’s' button on Home"


def test_device_comes_from_posthog_properties_or_the_user_agent() -> None:
    js = make_event(
        make_raw(properties={"$browser": "Chrome", "$os": "Mac OS X", "$device_type": "Desktop"})
    )
    server = make_event(
        make_raw(
            properties={
                "$raw_user_agent": (
                    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
                    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
                )
            }
        )
    )
    assert js.device is not None
    assert js.device.browser == "Chrome"
    assert server.device is not None
    assert (server.device.os, server.device.device_type) == (
        "iOS",
        "Mobile",
    )


def test_layout_shell_ids_do_not_name_a_component() -> None:
    event = make_event(click("/", 'button:text="Go";div:attr__id="root";body'))
    assert event.component is None


def test_aria_roles_name_landmark_components() -> None:
    chain = 'button:text="Close";div:attr__role="dialog";body'
    assert make_event(click("/", chain)).component == "Dialog"


def test_a_typed_input_value_never_names_the_element() -> None:
    event = make_event(click("/", 'input:attr__type="text"attr__value="secret answer"'))
    assert event.element == "field"


def test_a_submit_input_is_named_by_its_value() -> None:
    event = make_event(click("/", 'input:attr__type="submit"attr__value="Sign up"'))
    assert event.label == "Clicked 'Sign up' button on Home"


def test_page_names_made_from_long_segments_are_bounded() -> None:
    event = make_event(pageview("/" + "very-long-words-" * 20))
    assert event.page is not None
    assert len(event.page) <= 60


def test_glob_page_names_match_route_templates() -> None:
    config = ProjectConfig.model_validate({"pages": {"/docs/*": "Docs"}})
    assert make_event(pageview("/docs/api/events"), config).label == "Viewed Docs"


def test_an_image_without_text_is_named_by_its_alt_text() -> None:
    chain = 'img.h-48.w-full.object-cover:attr__alt="Racing Raptor"attr__src="/r.png";div.card'
    assert make_event(click("/", chain)).label == "Clicked 'Racing Raptor' image on Home"


def test_an_image_inside_a_link_names_the_link() -> None:
    chain = 'img:attr__alt="Racing Raptor";a:href="/products/7";div.grid'
    assert make_event(click("/", chain)).label == "Clicked 'Racing Raptor' link on Home"


def test_posthog_capture_attributes_name_an_element_without_text() -> None:
    chain = 'button.btn:attr__data-ph-capture-attribute-product-name="Pro plan";body'
    assert make_event(click("/", chain)).label == "Clicked 'Pro plan' button on Home"


def test_a_title_names_an_icon_button() -> None:
    chain = 'svg.icon;button:attr__title="Refresh";main:attr__id="view";body'
    assert make_event(click("/", chain)).label == "Clicked 'Refresh' button on Home"


def test_the_main_landmark_is_never_a_component() -> None:
    chain = 'button:text="Refresh";main:attr__aria-label="View"attr__role="main";body'
    assert make_event(click("/", chain)).component is None
