"""Settling a slice (core.settle): erasure, first-stored counting, identity and firing rules,
with what the store holds given as values: no database."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.factories import T0, make_raw, pageview
from usertrail.core.process import Derived, derive
from usertrail.core.settle import (
    Checked,
    Known,
    PersonKey,
    due,
    firings,
    latest_per_person,
    settle,
    tally,
)
from usertrail.core.triggers import TriggerCheck
from usertrail.model.config import ProjectConfig, TriggerSpec
from usertrail.model.identity import MergeEdge
from usertrail.model.person import PersonRef
from usertrail.model.raw import LoggedEvent, RawEvent

HOOK = {"webhook": {"url": "http://127.0.0.1:9/hook"}}
CONFIG = ProjectConfig.model_validate(
    {"triggers": {"power_user": {"when": {"event": "used"}, "nth": 2, "actions": [HOOK]}}}
)


def slice_of(*raws: RawEvent) -> Derived:
    return derive([LoggedEvent(seq=i + 1, raw=r) for i, r in enumerate(raws)], lambda _p: CONFIG)


def identify(user: str, anon: str, at: float = 0) -> RawEvent:
    return make_raw("$identify", distinct_id=user, at=at, properties={"$anon_distinct_id": anon})


def edge(uuid: str, user: str, anon: str) -> tuple[str, MergeEdge]:
    merge = MergeEdge(uuid=uuid, timestamp=T0, kind="identify", distinct_id=user, other_id=anon)
    return ("p1", merge)


def counts(derived: Derived, known: Known) -> dict[str, int]:
    return {key: n for _, _, key, n, _, _ in settle(derived, known).tally.counters}


def test_every_event_of_a_fresh_slice_counts_and_moves_the_cursor() -> None:
    derived = slice_of(pageview("/a"), pageview("/b", at=60))
    plan = settle(derived, Known())
    assert plan.new == derived.records
    assert counts(derived, Known())["event:$pageview"] == 2
    assert plan.cursor == 2


def test_an_event_stored_before_adds_nothing() -> None:
    first, again = pageview("/a"), pageview("/b", at=60)
    derived = slice_of(first, again)
    plan = settle(derived, Known(stored=frozenset({("p1", again.uuid)})))
    assert [r.event.uuid for r in plan.new] == [first.uuid]
    assert counts(derived, Known(stored=frozenset({("p1", again.uuid)})))["event:$pageview"] == 1


def test_an_event_twice_in_one_slice_counts_once() -> None:
    view = pageview("/a")
    assert counts(slice_of(view, view), Known())["event:$pageview"] == 1


def test_a_counter_spans_the_first_and_last_of_its_events() -> None:
    derived = slice_of(pageview("/a", at=120), pageview("/a", at=0), pageview("/a", at=60))
    (delta,) = [c for c in tally(derived.records).counters if c[2] == "event:$pageview"]
    assert delta[3:] == (3, T0, T0 + timedelta(seconds=120))


def test_a_caller_tally_is_reused_only_when_every_event_is_new() -> None:
    view = pageview("/a")
    derived = slice_of(view)
    given = tally(derived.records)
    assert settle(derived, Known(), given).tally is given
    stored = Known(stored=frozenset({("p1", view.uuid)}))
    assert settle(derived, stored, given).tally.counters == ()


def test_an_erased_ids_event_is_dropped_raw_row_and_all_and_counts_nothing() -> None:
    gone = make_raw("used", distinct_id="erased", at=0)
    kept = make_raw("used", distinct_id="alive", at=0)
    erased = Known(erased={("p1", "erased"): T0 + timedelta(hours=1)})

    plan = settle(slice_of(gone, kept), erased)

    assert plan.dropped == (("p1", gone.uuid),)
    assert [r.event.distinct_id for r in plan.new] == ["alive"]
    assert [h.distinct_id for h in plan.slice.trigger_hits] == ["alive"]
    assert {distinct_id for _, distinct_id, *_ in plan.tally.counters} == {"alive"}


def test_a_new_login_makes_the_anonymous_id_part_of_the_person() -> None:
    plan = settle(slice_of(identify("user_42", "anon-1")), Known())
    assert [e.distinct_id for _, e in plan.edges] == ["user_42"]
    assert set(plan.person_keys) == {
        PersonKey(project_id="p1", distinct_id="anon-1", key="user_42"),
        PersonKey(project_id="p1", distinct_id="user_42", key="user_42"),
    }


def test_a_new_login_re_resolves_the_whole_stored_component() -> None:
    """anon-1 joined user_42 earlier; user_42 now also logs in from anon-2."""
    known = Known(edges=(edge("old", "user_42", "anon-1"),))
    plan = settle(slice_of(identify("user_42", "anon-2")), known)
    assert {(k.distinct_id, k.key) for k in plan.person_keys} == {
        ("anon-1", "user_42"),
        ("anon-2", "user_42"),
        ("user_42", "user_42"),
    }


def test_a_login_stored_before_re_resolves_nothing() -> None:
    login = identify("user_42", "anon-1")
    known = Known(edges=(edge(login.uuid, "user_42", "anon-1"),))
    plan = settle(slice_of(login), known)
    assert (plan.edges, plan.person_keys) == ((), ())


def test_a_stored_component_the_new_edges_do_not_reach_is_left_alone() -> None:
    known = Known(edges=(edge("elsewhere", "user_7", "anon-7"),))
    plan = settle(slice_of(identify("user_42", "anon-1")), known)
    assert {k.distinct_id for k in plan.person_keys} == {"anon-1", "user_42"}


def person(key: str = "user_42", *ids: str) -> PersonRef:
    return PersonRef(
        project_id="p1", key=key, distinct_ids=ids or (key,), first_seen=T0, last_seen=T0
    )


def check(at: float = 0, distinct_id: str = "user_42", **spec: Any) -> TriggerCheck:
    trigger = TriggerSpec.model_validate(
        {"when": {"event": "used"}, "nth": 2, "actions": [HOOK], **spec}
    )
    return TriggerCheck(
        project_id="p1",
        trigger="power_user",
        spec=trigger,
        distinct_id=distinct_id,
        event_uuid=f"e-{at}",
        event_name="used",
        timestamp=T0 + timedelta(seconds=at),
    )


def checked(count: int, fired: frozenset[int] = frozenset(), **spec: Any) -> Checked:
    return Checked(check=check(**spec), person=person(), count=count, fired=fired)


def test_one_check_per_trigger_and_person_the_newest() -> None:
    merged = person("user_42", "anon-1", "user_42")
    pairs = [(check(5, "anon-1"), merged), (check(9), merged), (check(7), merged)]
    assert [c.timestamp for c, _ in latest_per_person(pairs)] == [T0 + timedelta(seconds=9)]


def test_a_check_of_an_id_that_is_no_one_checks_nothing() -> None:
    assert latest_per_person([(check(), None)]) == []


def test_a_threshold_is_due_once_reached_and_not_before() -> None:
    assert due([checked(1)]) == []
    assert [d.thresholds for d in due([checked(2)])] == [(2,)]


def test_a_threshold_fired_on_any_of_the_persons_ids_never_fires_again() -> None:
    assert due([checked(3, fired=frozenset({2}))]) == []


def test_an_every_trigger_fires_each_missed_multiple_once() -> None:
    item = checked(7, fired=frozenset({2}), nth=None, every=2)
    assert [d.thresholds for d in due([item])] == [(4, 6)]


def test_a_due_threshold_fires_with_the_person_and_the_count() -> None:
    (fired,) = firings([(d, {}) for d in due([checked(2)])], T0)
    assert (fired.firing.anchor_id, fired.firing.threshold, fired.count) == ("user_42", 2, 2)
    assert fired.firing.fired_at == T0


def test_a_person_outside_the_triggers_filter_is_not_fired_yet() -> None:
    pending = due([checked(2, person={"plan": "pro"})])
    assert firings([(d, {"plan": "free"}) for d in pending], T0) == []
    assert len(firings([(d, {"plan": "pro"}) for d in pending], T0)) == 1
