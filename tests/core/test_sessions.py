from __future__ import annotations

from datetime import timedelta

from tests.factories import make_event, make_raw
from usertrail.core.sessions import event_order, sessionize
from usertrail.model.event import Device

MINUTE = 60


def test_posthog_session_id_groups_events() -> None:
    events = [make_event(at=t, session_id=sid) for t, sid in [(0, "s1"), (10, "s2"), (20, "s1")]]
    spans = sessionize(events)
    assert [(s.id, s.event_count) for s in spans] == [("s1", 2), ("s2", 1)]


def test_session_id_is_read_from_the_sdk_property() -> None:
    event = make_event(make_raw(properties={"$session_id": "js-1"}))
    assert sessionize([event])[0].id == "js-1"


def test_thirty_minutes_of_inactivity_starts_a_new_session() -> None:
    events = [make_event(at=minutes * MINUTE) for minutes in (0, 1, 30, 61)]
    assert [s.event_count for s in sessionize(events)] == [3, 1]


def test_a_gap_of_exactly_the_timeout_stays_in_the_session() -> None:
    events = [make_event(at=0), make_event(at=30 * MINUTE)]
    assert len(sessionize(events)) == 1


def test_the_timeout_is_a_parameter() -> None:
    events = [make_event(at=0), make_event(at=10 * MINUTE)]
    assert len(sessionize(events, timeout=timedelta(minutes=5))) == 2


def test_derived_session_id_is_named_after_its_first_event() -> None:
    first = make_event(at=0)
    assert sessionize([make_event(at=5), first])[0].id == f"d-{first.uuid}"


def test_events_with_and_without_session_ids_form_separate_sessions() -> None:
    events = [make_event(at=0, session_id="js"), make_event(at=5), make_event(at=10)]
    spans = sessionize(events)
    assert sorted(s.event_count for s in spans) == [1, 2]


def test_session_spans_its_first_to_last_event() -> None:
    events = [make_event(at=t, session_id="s") for t in (300, 0, 120)]
    (span,) = sessionize(events)
    assert span.duration == timedelta(minutes=5)
    assert span.event_uuids == tuple(e.uuid for e in sorted(events, key=event_order))


def test_session_lists_pages_in_visit_order_collapsing_repeats() -> None:
    pages = ["Dashboard", "Billing", "Billing", None, "Dashboard"]
    events = [make_event(at=i, session_id="s", page=p) for i, p in enumerate(pages)]
    assert sessionize(events)[0].pages == ("Dashboard", "Billing", "Dashboard")


def test_session_device_is_the_first_event_that_has_one() -> None:
    chrome = Device(device_type="Desktop", browser="Chrome")
    events = [
        make_event(at=0, session_id="s", device=None),
        make_event(at=1, session_id="s", device=chrome),
        make_event(at=2, session_id="s", device=Device(browser="Safari")),
    ]
    assert sessionize(events)[0].device == chrome


def test_session_names_every_distinct_id_it_holds() -> None:
    events = [
        make_event(at=0, session_id="s", distinct_id="anon-1"),
        make_event(at=5, session_id="s", distinct_id="user_42"),
        make_event(at=9, session_id="s", distinct_id="anon-1"),
    ]
    assert sessionize(events)[0].distinct_ids == ("anon-1", "user_42")


def test_duplicate_events_count_once() -> None:
    event = make_event(at=0)
    assert sessionize([event, event])[0].event_count == 1


def test_simultaneous_events_are_ordered_by_uuid() -> None:
    late = make_event(at=0, uuid="0190a000-0000-7000-8000-000000000002")
    early = make_event(at=0, uuid="0190a000-0000-7000-8000-000000000001")
    assert sorted([late, early], key=event_order) == [early, late]
    assert sessionize([late, early])[0].id == f"d-{early.uuid}"


def test_a_session_id_reused_for_days_is_split_after_thirty_idle_minutes() -> None:
    events = [
        make_event(at=minutes * MINUTE, session_id="s1", uuid=f"u{i}")
        for i, minutes in enumerate((0, 5, 40, 41, 60 * 24 * 3))
    ]
    spans = sessionize(events)
    assert [(s.id, s.event_count) for s in spans] == [("s1", 2), ("s1/u2", 2), ("s1/u4", 1)]
    assert max(s.duration for s in spans) == timedelta(minutes=5)


def test_the_split_does_not_depend_on_arrival_order() -> None:
    events = [make_event(at=m * MINUTE, session_id="s1") for m in (0, 50, 51, 200)]
    assert sessionize(events) == sessionize(list(reversed(events)) + events[:2])
