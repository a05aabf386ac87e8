"""Triggers as pure functions: matching, due thresholds, rendering."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from tests.factories import T0, make_raw
from usertrail.core.triggers import (
    FiringContext,
    TriggerCheck,
    due_thresholds,
    fire,
    hits_and_checks,
    one_line,
    where_matches,
)
from usertrail.model.actions import EmailMessage, WebhookMessage, wire_key
from usertrail.model.config import ProjectConfig, TriggerSpec

POWER_USER: dict[str, Any] = {
    "when": {"event": "feature_used"},
    "nth": 5,
    "actions": [
        {
            "email": {
                "subject": "You're a power user, {{ person.properties.name }}",
                "body": "You used it {{ count }} times.",
            }
        },
        {"webhook": {"url": "http://127.0.0.1:9/hook", "secret_env": "HOOK_SECRET"}},
    ],
}


def spec(**overrides: Any) -> TriggerSpec:
    return TriggerSpec.model_validate({**POWER_USER, **overrides})


def check(trigger_spec: TriggerSpec) -> TriggerCheck:
    return TriggerCheck(
        project_id="p1",
        trigger="power_user",
        spec=trigger_spec,
        distinct_id="anon-1",
        event_uuid="e-5",
        event_name="feature_used",
        timestamp=T0,
    )


def person(**properties: Any) -> FiringContext:
    return FiringContext(
        person_key="user_42", distinct_ids=("anon-1", "user_42"), properties=properties, count=5
    )


def test_nth_is_due_once_reached_and_never_again() -> None:
    assert due_thresholds(spec(), 4, set()) == []
    assert due_thresholds(spec(), 5, set()) == [5]
    assert due_thresholds(spec(), 9, set()) == [5]
    assert due_thresholds(spec(), 9, {5}) == []


def test_every_is_due_at_each_multiple_not_yet_fired() -> None:
    every = spec(nth=None, every=10)
    assert due_thresholds(every, 25, {10}) == [20]
    assert due_thresholds(every, 9, set()) == []


def test_first_is_due_at_the_first_event() -> None:
    assert due_thresholds(spec(nth=None, first=True), 1, set()) == [1]


def test_a_trigger_needs_exactly_one_count_rule() -> None:
    with pytest.raises(ValidationError, match="exactly one count rule"):
        spec(every=3)
    with pytest.raises(ValidationError, match="exactly one count rule"):
        spec(nth=None)


def test_a_broken_template_is_a_config_error() -> None:
    bad = {"email": {"subject": "{{ person.name ", "body": "x"}}
    with pytest.raises(ValidationError, match="not a valid template"):
        spec(actions=[bad])


def test_where_filters_match_values_and_lists() -> None:
    assert where_matches({"plan": "free"}, {"plan": "free", "x": 1})
    assert not where_matches({"plan": "free"}, {"plan": "pro"})
    assert where_matches({"plan": ("free", "trial")}, {"plan": "trial"})
    assert not where_matches({"plan": "free"}, {})


def test_only_matching_events_are_hits() -> None:
    config = ProjectConfig.model_validate(
        {"triggers": {"exports": {**POWER_USER, "when": {"event": "x", "where": {"k": "csv"}}}}}
    )
    assert list(hits_and_checks(make_raw("x", properties={"k": "csv"}), config))
    assert not list(hits_and_checks(make_raw("x", properties={"k": "pdf"}), config))
    assert not list(hits_and_checks(make_raw("y", properties={"k": "csv"}), config))


def test_fire_renders_email_and_webhook_with_person_and_idempotency_keys() -> None:
    firing = fire(check(spec()), 5, person(email="ada@example.com", name="Ada"), T0)
    email, webhook = (a.message for a in firing.actions)
    assert isinstance(email, EmailMessage)
    assert email.to == "ada@example.com"
    assert email.subject == "You're a power user, Ada"
    assert email.text == "You used it 5 times."
    assert isinstance(webhook, WebhookMessage)
    assert webhook.body["person"]["distinct_ids"] == ["anon-1", "user_42"]
    assert webhook.body["threshold"] == 5
    assert webhook.secret_env == "HOOK_SECRET"
    assert firing.key(0) == "p1:power_user:5:user_42:0" != firing.key(1)


def test_a_person_without_an_address_gets_a_dead_email_not_a_retry_loop() -> None:
    firing = fire(check(spec()), 5, person(name="Ada"), T0)
    email = firing.actions[0]
    assert email.error is not None
    assert "no recipient" in email.error
    assert firing.actions[1].error is None


def test_a_template_failing_at_render_time_is_recorded_not_raised() -> None:
    failing = {"email": {"to": "a@b.c", "subject": "{{ 1 // 0 }}", "body": "x"}}
    firing = fire(check(spec(actions=[failing])), 5, person(), T0)
    assert firing.actions[0].message is None
    assert firing.actions[0].error is not None
    assert "template failed" in firing.actions[0].error


def test_templates_are_sandboxed() -> None:
    probe = {"email": {"to": "a@b.c", "subject": "{{ ''.__class__.__mro__ }}", "body": "x"}}
    firing = fire(check(spec(actions=[probe])), 5, person(), T0)
    assert firing.actions[0].error is not None  # SecurityError, recorded as a failure


def test_an_idempotency_key_travels_in_headers_as_ascii_and_ascii_keys_are_unchanged() -> None:
    assert wire_key("p1:power_user:5:user_42:1") == "p1:power_user:5:user_42:1"
    assert wire_key("p1:t:1:josé/\n:0") == "p1:t:1:jos%C3%A9%2F%0A:0"


@pytest.mark.parametrize(
    ("rendered", "header"),
    [
        ("Welcome, 0\xa00", "Welcome, 0\xa00"),  # a no-break space is part of the name
        ("Welcome,\u3000José\u2009!", "Welcome,\u3000José\u2009!"),
        ("Hi\r\nBcc: evil@example.com", "Hi Bcc: evil@example.com"),  # no second header
        ("a\nb\x85c\u2028d\u2029e\x0bf\x0cg", "a b c d e f g"),
        ("  padded \n", "padded"),
    ],
)
def test_a_subject_is_one_line_and_keeps_every_other_character(rendered: str, header: str) -> None:
    assert one_line(rendered) == header
    assert len(one_line(rendered).splitlines()) == 1
