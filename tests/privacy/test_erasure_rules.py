"""The rules that keep an erased person erased (core.erasure), on processed slices."""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from tests.factories import T0, make_raw, pageview
from usertrail.core.erasure import id_hash, screen, seen_ids
from usertrail.core.process import Derived, derive
from usertrail.model.config import ProjectConfig, SinkSpec, TriggerSpec
from usertrail.model.raw import LoggedEvent, RawEvent

ERASED_AT = T0 + timedelta(hours=1)
CONFIG = ProjectConfig(
    triggers={
        "t": TriggerSpec.model_validate(
            {
                "when": {"event": "used"},
                "first": True,
                "actions": [{"webhook": {"url": "http://127.0.0.1:9/"}}],
            }
        )
    },
    sinks={"s": SinkSpec.model_validate({"when": {"event": "used"}, "path": "s.jsonl"})},
)


def slice_of(*raws: RawEvent) -> Derived:
    logged = [LoggedEvent(seq=i + 1, raw=raw) for i, raw in enumerate(raws)]
    return derive(logged, lambda _p: CONFIG)


def received(raw: RawEvent, at: datetime, happened: datetime | None = None) -> RawEvent:
    return msgspec.structs.replace(raw, received_at=at, timestamp=happened or raw.timestamp)


def identify(user: str, anon: str, **kw: object) -> RawEvent:
    props = {"$anon_distinct_id": anon, "$set": {"plan": "pro"}}
    return make_raw("$identify", distinct_id=user, properties=props, **kw)  # type: ignore[arg-type]


ERASED = {("p1", "anon"): ERASED_AT, ("p1", "user"): ERASED_AT}
BEFORE, AFTER = ERASED_AT - timedelta(minutes=1), ERASED_AT + timedelta(minutes=1)


def test_an_event_received_before_the_erasure_is_dropped_with_all_it_implies() -> None:
    in_flight = received(make_raw("used", distinct_id="user"), BEFORE)
    kept = received(make_raw("used", distinct_id="someone"), BEFORE)

    screened, dropped = screen(slice_of(in_flight, kept), ERASED)

    assert dropped == {in_flight.uuid}
    assert [e.uuid for e in screened.events] == [kept.uuid]
    assert [r.event.uuid for r in screened.records] == [kept.uuid]
    assert [h.uuid for h in screened.trigger_hits] == [kept.uuid]
    assert [c.event_uuid for c in screened.trigger_checks] == [kept.uuid]
    assert [r.uuid for r in screened.sink_records] == [kept.uuid]
    assert [s.distinct_id for s in screened.seen] == ["someone"]


def test_an_event_received_and_happened_after_the_erasure_is_new_data() -> None:
    new = received(pageview("/billing", distinct_id="anon"), AFTER, happened=AFTER)
    derived = slice_of(new)
    assert screen(derived, ERASED) == (derived, set())


def test_an_event_that_happened_before_the_erasure_is_dropped_whenever_it_arrives() -> None:
    """An SDK's offline queue, or an erased event sent again with its own uuid."""
    late = received(make_raw("used", distinct_id="user"), AFTER, happened=BEFORE)
    screened, dropped = screen(slice_of(late), ERASED)
    assert dropped == {late.uuid}
    assert (screened.events, screened.sink_records, screened.trigger_hits) == ((), (), ())


def test_a_merge_that_happened_before_the_erasure_links_nothing_but_its_event_stays() -> None:
    late_login = received(identify("newcomer", "anon"), AFTER, happened=BEFORE)

    screened, dropped = screen(slice_of(late_login), ERASED)

    assert dropped == set()
    assert screened.edges == ()
    assert [e.uuid for e in screened.events] == [late_login.uuid]
    assert [u.uuid for _, _, u in screened.updates] == [late_login.uuid]  # its own $set
    assert [s.distinct_id for s in screened.seen] == ["newcomer"]  # the anon id is not "seen"


def test_a_new_login_after_the_erasure_links_ids_again() -> None:
    new_login = received(identify("user", "anon"), AFTER, happened=AFTER)
    derived = slice_of(new_login)
    assert screen(derived, ERASED) == (derived, set())


def test_another_projects_erasure_changes_nothing() -> None:
    in_flight = received(make_raw("used", distinct_id="user", project_id="p2"), BEFORE)
    derived = slice_of(in_flight)
    assert screen(derived, ERASED) == (derived, set())


def test_an_erased_id_is_kept_only_as_a_hash_of_project_and_id() -> None:
    digest = id_hash("p1", "user")
    assert len(digest) == 64
    assert "user" not in digest
    assert digest != id_hash("p2", "user")


@given(
    st.lists(
        st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(0, 600), st.booleans()),
        min_size=1,
        max_size=12,
    )
)
def test_first_and_last_sightings_are_what_derive_computes(
    steps: list[tuple[str, int, bool]],
) -> None:
    raws = [
        identify(who, "anon", at=at) if login else pageview("/x", distinct_id=who, at=at)
        for who, at, login in steps
    ]
    derived = slice_of(*raws)
    by_id = {(s.project_id, s.distinct_id): s for s in derived.seen}
    assert {
        (s.project_id, s.distinct_id): s for s in seen_ids(derived.events, derived.edges)
    } == by_id
