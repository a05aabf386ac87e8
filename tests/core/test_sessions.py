from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from tests.factories import make_event, make_raw
from usertrail.core.sessions import sessionize


def test_posthog_session_id_groups_events() -> None:
    events = [
        make_event(make_raw(at=t, properties={"$session_id": sid}))
        for t, sid in [(0, "s1"), (10, "s2"), (20, "s1")]
    ]
    spans = sessionize(events)
    assert [(s.id, len(s.event_uuids)) for s in spans] == [("s1", 2), ("s2", 1)]


def test_thirty_minutes_of_inactivity_starts_a_new_session() -> None:
    events = [make_event(make_raw(at=t)) for t in (0, 60, 29 * 60 + 60, 29 * 60 + 60 + 31 * 60)]
    assert [len(s.event_uuids) for s in sessionize(events)] == [3, 1]


def test_derived_session_id_is_named_after_its_first_event() -> None:
    first = make_event(make_raw(at=0))
    assert sessionize([make_event(make_raw(at=5)), first])[0].id.startswith("d-")
    assert sessionize([first])[0].id == f"d-{first.uuid}"


@given(st.randoms(use_true_random=False))
def test_out_of_order_arrival_gives_the_same_sessions(rnd: random.Random) -> None:
    times = [0, 5, 100, 2000, 2010, 6000, 6001, 6001]
    events = [
        make_event(make_raw(at=t, properties={"$session_id": "js"} if i % 3 == 0 else {}))
        for i, t in enumerate(times)
    ]
    expected = sessionize(events)
    shuffled = events + rnd.choices(events, k=3)
    rnd.shuffle(shuffled)
    assert sessionize(shuffled) == expected
