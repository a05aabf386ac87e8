"""Realistic traces (lists of RawEvents) shared by pipeline and scenario tests."""

from __future__ import annotations

from tests.factories import click, make_raw, pageview
from usertrail.model.raw import RawEvent

PLAN_BUTTON = (
    'button.btn:text="Choose Pro"attr__data-attr="choose-pro";'
    'div.plan-card:attr__data-ph-component="plan-picker";main'
)


def login_trace() -> list[RawEvent]:
    """Anonymous browsing, a login, feature use, a second browser, a failing generation."""
    anon = {"distinct_id": "anon-1"}
    s1 = {"$session_id": "s1", "$browser": "Chrome", "$os": "Mac OS X", "$device_type": "Desktop"}
    return [
        pageview("/", at=0, properties=s1, **anon),
        pageview("/settings/billing", at=20, properties=s1, **anon),
        click("/settings/billing", PLAN_BUTTON, at=30, properties=s1, **anon),
        make_raw(
            "$identify",
            distinct_id="user_42",
            at=40,
            properties={
                "$anon_distinct_id": "anon-1",
                "$session_id": "s1",
                "$set": {"plan": "free"},
                "$set_once": {"first_page": "/"},
            },
        ),
        *[
            make_raw(
                "feature_used",
                distinct_id="user_42",
                at=50 + i,
                properties={"feature": "Report export"},
            )
            for i in range(6)
        ],
        pageview("/reports/17", at=4000, distinct_id="anon-2", properties={"$session_id": "s2"}),
        make_raw(
            "$identify",
            distinct_id="user_42",
            at=4010,
            properties={"$anon_distinct_id": "anon-2", "$set": {"plan": "pro"}},
        ),
        make_raw(
            "generation_failed",
            distinct_id="user_42",
            at=4020,
            properties={"failure_reason": "timeout", "input_prompt": "sum Q3"},
        ),
        make_raw("$pageview", distinct_id="anonymous", at=4030),
        make_raw(
            "$identify",
            distinct_id="user_7",
            at=4040,
            properties={"$anon_distinct_id": "anonymous"},
        ),
    ]


def account_trace() -> list[RawEvent]:
    """posthog-python's group_identify (under a made-up id), twice, events in the account from
    before and after a login, and a backend `$set`."""
    acme = {"$groups": {"company": "acme"}}
    identify = {"$group_type": "company", "$group_key": "acme"}
    return [
        make_raw(
            "$groupidentify",
            distinct_id="$company_acme",
            at=10,
            properties={**identify, "$group_set": {"plan": "free", "seats": 3}},
        ),
        pageview("/reports", at=25, distinct_id="anon-1", properties={**acme, "$session_id": "s1"}),
        make_raw("report_opened", distinct_id="user_42", at=70, properties=acme),
        make_raw("$set", distinct_id="user_42", at=80, properties={"$set": {"role": "admin"}}),
        make_raw(
            "$groupidentify",
            distinct_id="3f0c7a52-made-up",
            at=4050,
            properties={**identify, "$group_set": {"plan": "enterprise"}},
        ),
        make_raw("report_opened", distinct_id="user_7", at=4060, properties=acme),
    ]
