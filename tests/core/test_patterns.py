"""Personas: each trace shows one behaviour; its pattern is found with the right evidence,
and no pattern fires on a trace that does not show it."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.factories import T0, click, make_event, make_raw, pageview
from usertrail.core.aggregates import counter_keys, merge_counters, set_members
from usertrail.core.patterns import PatternInput, detect_patterns
from usertrail.core.recommendations import recommend
from usertrail.model.config import ProjectConfig
from usertrail.model.context import Pattern
from usertrail.model.counter import Counter
from usertrail.model.raw import RawEvent

CONFIG = ProjectConfig.model_validate(
    {
        "pages": {"/settings/billing": "Billing"},
        "features": {"report_export": {"events": ["report_exported"]}},
    }
)
DAY = 86_400


def input_for(trace: list[RawEvent], config: ProjectConfig, now: datetime) -> PatternInput:
    """What the store would hand the detectors after processing `trace`."""
    rows: list[tuple[str, Counter]] = []
    sets: dict[str, set[str]] = {}
    for raw in trace:
        event = make_event(raw, config)
        stamp = Counter(count=1, first=event.timestamp, last=event.timestamp)
        rows += [(k, stamp) for k in counter_keys(event, config)]
        for key, member in set_members(event):
            sets.setdefault(key, set()).add(member)
    sizes = {k: len(v) for k, v in sets.items()}
    return PatternInput(counters=merge_counters(rows), now=now, config=config, set_sizes=sizes)


def patterns_of(trace: list[RawEvent], now: datetime | None = None) -> dict[str, Pattern]:
    data = input_for(trace, CONFIG, now or max(r.timestamp for r in trace))
    return {p.id: p for p in detect_patterns(data)}


def billing_abandoner() -> list[RawEvent]:
    return [
        pageview("/settings/billing", at=day * DAY + 60, properties={"$session_id": f"s{s}"})
        for day, s in [(0, 1), (0, 1), (1, 2), (3, 3)]
    ]


def power_user() -> list[RawEvent]:
    return [
        make_raw("report_exported", at=i * 3600, properties={"$session_id": f"s{i // 3}"})
        for i in range(12)
    ]


def struggling_user() -> list[RawEvent]:
    save = 'button:text="Save"'
    return [
        *[
            make_raw("generation_failed", at=i * 60, properties={"failure_reason": "timeout"})
            for i in range(3)
        ],
        *[
            make_raw(
                "$rageclick",
                at=300 + i,
                properties={"$current_url": "https://a.test/settings", "$elements_chain": save},
            )
            for i in range(2)
        ],
    ]


def new_user() -> list[RawEvent]:
    return [
        pageview("/", at=0),
        pageview("/dashboard", at=30),
        click("/dashboard", 'a:text="Reports"', at=40),
    ]


def test_billing_abandoner_opened_billing_across_sessions_and_never_chose_a_plan() -> None:
    found = patterns_of(billing_abandoner())
    pattern = found["plan_selection_abandonment"]
    assert (
        pattern.summary
        == "Opened Billing 4 times across 3 sessions, never completed plan selection"
    )
    assert pattern.evidence == {
        "funnel": "plan_selection",
        "first_step": "Billing",
        "starts": 4,
        "sessions": 3,
        "completed": 0,
    }
    assert pattern.since == T0 + timedelta(seconds=60)
    [rec] = recommend([pattern], current_page="Billing")
    assert rec.because == pattern.id
    assert rec.message.startswith("The user is on Billing right now.")


def test_choosing_a_plan_after_the_last_billing_visit_is_not_abandonment() -> None:
    trace = [*billing_abandoner(), make_raw("plan_selected", at=3 * DAY + 120)]
    assert "plan_selection_abandonment" not in patterns_of(trace)


def test_power_user_passes_an_adoption_milestone() -> None:
    pattern = patterns_of(power_user())["feature_adoption:Report export"]
    assert pattern.evidence == {
        "feature": "Report export",
        "uses": 12,
        "sessions": 4,
        "milestone": 10,
    }


def test_struggling_user_has_repeated_errors_and_rage_clicks() -> None:
    found = patterns_of(struggling_user())
    error = found["repeated_error:Generation failed ('timeout')"]
    assert error.summary == "Hit the same error 3 times: Generation failed ('timeout')"
    assert (
        found["rageclicks:button 'Save'@Settings"].summary
        == "Rage-clicked button 'Save' on Settings twice"
    )


def test_new_user_shows_no_pattern() -> None:
    assert patterns_of(new_user()) == {}


def test_a_feature_tried_once_then_dropped_while_active() -> None:
    trace = [make_raw("report_exported", at=0), *[pageview("/", at=d * DAY) for d in range(1, 12)]]
    pattern = patterns_of(trace)["feature_dropped:Report export"]
    assert pattern.summary == "Tried Report export once, then never again in 11 days of activity"


def test_returning_after_a_long_absence() -> None:
    trace = [pageview("/", at=0), pageview("/", at=40 * DAY)]
    assert patterns_of(trace)["returning_after_absence"].evidence["days_away"] == 40


def test_declining_activity_against_the_previous_weeks() -> None:
    busy = [pageview("/", at=d * DAY + i) for d in range(21) for i in range(10)]
    quiet = [pageview("/", at=(21 + d) * DAY) for d in range(0, 7, 3)]
    pattern = patterns_of(busy + quiet, now=T0 + timedelta(days=27, hours=12))["declining_activity"]
    assert pattern.evidence == {"recent_events": 3, "weekly_baseline": 70.0}


def test_personas_do_not_trigger_each_others_patterns() -> None:
    assert set(patterns_of(power_user())) == {"feature_adoption:Report export"}
    assert set(patterns_of(billing_abandoner())) == {"plan_selection_abandonment"}
    assert not any(p.startswith(("feature", "plan")) for p in patterns_of(struggling_user()))


def test_onboarding_started_days_ago_and_left_half_way_is_stalled() -> None:
    config = ProjectConfig.model_validate(
        {
            "funnels": {
                "onboarding": {
                    "steps": [
                        {"event": "signed_up"},
                        {"event": "project_created"},
                        {"event": "invite_sent"},
                    ]
                }
            }
        }
    )
    trace = [
        make_raw("signed_up", at=0),
        make_raw("project_created", at=600),
        pageview("/", at=3 * DAY),
    ]
    rows: list[tuple[str, Counter]] = []
    for raw in trace:
        event = make_event(raw, config)
        rows += [
            (k, Counter(count=1, first=event.timestamp, last=event.timestamp))
            for k in counter_keys(event, config)
        ]
    data = PatternInput(counters=merge_counters(rows), now=T0 + timedelta(days=3), config=config)
    [pattern] = detect_patterns(data)
    assert pattern.summary == "Started onboarding 3 days ago and stopped after step 2 of 3"
    assert recommend([pattern], None)[0].id == "resume_onboarding"


def test_rage_clicks_without_a_url_name_no_page() -> None:
    chain = 'img:attr__alt="Racing Raptor"'
    trace = [make_raw("$rageclick", at=i, properties={"$elements_chain": chain}) for i in range(3)]
    (found,) = patterns_of(trace).values()
    assert found.summary == "Rage-clicked image 'Racing Raptor' 3 times"
    (advice,) = recommend([found], None)
    assert advice.message.startswith("Ask whether image 'Racing Raptor' is working")


def test_a_page_that_loads_slowly_twice_is_a_pattern_with_advice() -> None:
    slow = {"$current_url": "https://a.test/settings/billing", "$web_vitals_LCP_value": 5200}
    fast = {**slow, "$web_vitals_LCP_value": 900}
    trace = [make_raw("$web_vitals", at=i, properties=p) for i, p in enumerate([slow, fast, slow])]
    (found,) = patterns_of(trace).values()
    assert found.summary == "Billing loaded slowly for them twice (poor web vitals)"
    (advice,) = recommend([found], "Billing")
    assert (
        advice.message
        == "If they mention Billing, acknowledge that it has been loading slowly for them."
    )


def test_a_session_id_reused_on_another_day_counts_as_another_session() -> None:
    trace = [
        pageview("/settings/billing", at=day * DAY, properties={"$session_id": "kept-for-days"})
        for day in (0, 0, 2)
    ]
    data = input_for(trace, CONFIG, T0 + timedelta(days=3))
    assert data.set_size("page_sessions:Billing") == 2
