"""DESIGN rule 2, proven: shuffle a trace and inject duplicates, derived state is the same."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any, TypeVar

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from tests.factories import T0, make_event
from usertrail.core.groups import memberships
from usertrail.core.identity import (
    apply_person_updates,
    component_of,
    fold_person_updates,
    merge_props,
    props_state,
    props_values,
    resolve,
)
from usertrail.core.sessions import DEFAULT_TIMEOUT, sessionize
from usertrail.model.event import Event
from usertrail.model.group import Membership
from usertrail.model.identity import MergeEdge, PersonUpdate, PropsState

T = TypeVar("T")

IDS = ["alice", "bob", "carol", "anon-1", "anon-2", "anon-3", "anon-4", "anonymous"]
KINDS = ["identify", "identify", "alias", "merge_dangerously"]
KEYS = ["plan", "source", "email"]


def shuffled_with_duplicates(items: list[T], rnd: random.Random, dupes: int) -> list[T]:
    out = items + rnd.choices(items, k=dupes) if items else []
    rnd.shuffle(out)
    return out


@st.composite
def edge_lists(draw: st.DrawFn) -> list[MergeEdge]:
    rows = draw(
        st.lists(
            st.tuples(st.sampled_from(KINDS), st.sampled_from(IDS), st.sampled_from(IDS)),
            max_size=12,
        )
    )
    # Few distinct seconds, so equal timestamps (tie-broken by uuid) are common.
    seconds = draw(st.lists(st.integers(0, 4), min_size=len(rows), max_size=len(rows)))
    return [
        MergeEdge(
            uuid=f"e{i:02d}",
            timestamp=T0 + timedelta(seconds=s),
            kind=kind,
            distinct_id=target,
            other_id=other,
        )
        for i, ((kind, target, other), s) in enumerate(zip(rows, seconds, strict=True))
    ]


def key_dicts(values: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(st.sampled_from(KEYS), values, max_size=2)


@st.composite
def update_lists(draw: st.DrawFn, *, stable_once: bool, unsets: bool) -> list[PersonUpdate]:
    """`stable_once`: every `$set_once` of a key carries one value (SDKs' `$initial_*`)."""
    once_values = st.just("first") if stable_once else st.integers(0, 3) | st.none()
    rows = draw(
        st.lists(
            st.tuples(
                st.integers(0, 4),
                key_dicts(st.integers(0, 3) | st.none()),
                key_dicts(once_values),
                st.lists(st.sampled_from(KEYS), max_size=2, unique=True) if unsets else st.just([]),
            ),
            max_size=10,
        )
    )
    return [
        PersonUpdate(
            uuid=f"u{i:02d}",
            timestamp=T0 + timedelta(seconds=s),
            set=set_,
            set_once={k: f"{k}-{v}" if stable_once else v for k, v in once.items()},
            unset=tuple(unset),
        )
        for i, (s, set_, once, unset) in enumerate(rows)
    ]


@st.composite
def event_lists(draw: st.DrawFn) -> list[Event]:
    rows = draw(
        st.lists(
            st.tuples(
                st.integers(0, 240),  # minutes: gaps either side of the 30-minute timeout
                st.sampled_from([None, None, "js-1", "js-2"]),
                st.sampled_from(["anon-1", "user_42"]),
                st.sampled_from([None, "Dashboard", "Billing"]),
            ),
            max_size=14,
        )
    )
    return [
        make_event(
            at=minutes * 60,
            uuid=f"0190a000-0000-7000-8000-{i:012d}",
            session_id=session_id,
            distinct_id=distinct_id,
            page=page,
        )
        for i, (minutes, session_id, distinct_id, page) in enumerate(rows)
    ]


def posthog_replay(updates: list[PersonUpdate]) -> dict[str, Any]:
    """PostHog's person-update.ts, event by event, in (timestamp, uuid) order."""
    props: dict[str, Any] = {}
    for u in sorted({u.uuid: u for u in updates}.values(), key=lambda u: (u.timestamp, u.uuid)):
        for key, value in u.set_once.items():
            props.setdefault(key, value)
        props.update(u.set)
        for key in u.unset:
            props.pop(key, None)
    return props


dupes = st.integers(0, 4)
randoms = st.randoms(use_true_random=False)


# --- identity ---------------------------------------------------------------------------------


@given(edge_lists(), randoms, dupes)
def test_resolution_ignores_arrival_order_and_duplicates(
    edges: list[MergeEdge], rnd: random.Random, n: int
) -> None:
    assert resolve(shuffled_with_duplicates(edges, rnd, n)) == resolve(edges)


@given(edge_lists())
def test_every_person_key_is_one_of_its_own_ids(edges: list[MergeEdge]) -> None:
    mapping = resolve(edges)
    assert all(mapping[key] == key for key in mapping.values())


@given(edge_lists())
def test_resolving_one_component_gives_the_keys_a_full_resolve_does(
    edges: list[MergeEdge],
) -> None:
    full = resolve(edges, seen_ids=IDS)
    for distinct_id in IDS:
        ids = component_of(distinct_id, edges)
        local = [e for e in edges if e.distinct_id in ids and e.other_id in ids]
        assert {i: resolve(local, seen_ids=ids)[i] for i in ids} == {i: full[i] for i in ids}


@given(edge_lists())
def test_blocklisted_ids_stay_alone(edges: list[MergeEdge]) -> None:
    mapping = resolve(edges, seen_ids=["anonymous"])
    assert [i for i, key in mapping.items() if key == "anonymous"] == ["anonymous"]


# --- person properties ------------------------------------------------------------------------


@given(update_lists(stable_once=False, unsets=True), randoms, dupes)
def test_person_properties_ignore_arrival_order_and_duplicates(
    updates: list[PersonUpdate], rnd: random.Random, n: int
) -> None:
    shuffled = shuffled_with_duplicates(updates, rnd, n)
    assert apply_person_updates(shuffled) == apply_person_updates(updates)


@given(update_lists(stable_once=True, unsets=True))
def test_person_properties_match_posthog_replayed_in_time_order(
    updates: list[PersonUpdate],
) -> None:
    assert apply_person_updates(updates) == posthog_replay(updates)


@given(update_lists(stable_once=False, unsets=False))
def test_without_unsets_any_set_once_values_match_posthog(updates: list[PersonUpdate]) -> None:
    assert apply_person_updates(updates) == posthog_replay(updates)


def states(updates: list[PersonUpdate]) -> list[PropsState]:
    return [props_state(u) for u in updates]


@given(update_lists(stable_once=False, unsets=True))
def test_merge_props_is_commutative_associative_and_idempotent(
    updates: list[PersonUpdate],
) -> None:
    a, b, c = (fold_person_updates(updates[i::3]) for i in range(3))
    assert merge_props(a, b) == merge_props(b, a)
    assert merge_props(merge_props(a, b), c) == merge_props(a, merge_props(b, c))
    assert merge_props(a, a) == a


@given(update_lists(stable_once=False, unsets=True), st.integers(0, 10))
def test_states_kept_incrementally_give_the_same_properties(
    updates: list[PersonUpdate], cut: int
) -> None:
    stored = fold_person_updates(updates[:cut])
    for state in states(updates[cut:]):
        stored = merge_props(stored, state)
    assert props_values(stored) == apply_person_updates(updates)


# --- sessions ---------------------------------------------------------------------------------


@given(event_lists(), randoms, dupes)
def test_out_of_order_arrival_gives_the_same_sessions(
    events: list[Event], rnd: random.Random, n: int
) -> None:
    assert sessionize(shuffled_with_duplicates(events, rnd, n)) == sessionize(events)


@given(event_lists())
def test_every_event_lands_in_exactly_one_session(events: list[Event]) -> None:
    members = [u for span in sessionize(events) for u in span.event_uuids]
    assert sorted(members) == sorted(e.uuid for e in events)


@given(event_lists())
def test_derived_sessions_split_exactly_at_the_timeout(events: list[Event]) -> None:
    derived = [s for s in sessionize(events) if s.id.startswith("d-")]
    by_uuid = {e.uuid: e for e in events}
    for span in derived:
        times = [by_uuid[u].timestamp for u in span.event_uuids]
        assert all(b - a <= DEFAULT_TIMEOUT for a, b in pairwise(times))
    for before, after in pairwise(derived):
        assert after.start - before.end > DEFAULT_TIMEOUT


@given(event_lists())
def test_no_session_holds_a_gap_longer_than_the_timeout(events: list[Event]) -> None:
    """PostHog's rule holds inside one `$session_id` too."""
    by_uuid = {e.uuid: e for e in events}
    for span in sessionize(events):
        times = [by_uuid[u].timestamp for u in span.event_uuids]
        assert all(b - a <= DEFAULT_TIMEOUT for a, b in pairwise(times))


# --- accounts ---------------------------------------------------------------------------------


def with_groups(events: list[Event]) -> list[Event]:
    """Events in one of two accounts (or none), decided by their uuid."""
    accounts = [(), (("company", "acme"),), (("company", "globex"),)]
    return [msgspec.structs.replace(e, groups=accounts[int(e.uuid[-1]) % 3]) for e in events]


def folded(spans: list[Membership]) -> dict[tuple[str, str, str], tuple[datetime, datetime]]:
    """What the store's min/max upserts keep of memberships applied one batch after another."""
    out: dict[tuple[str, str, str], tuple[datetime, datetime]] = {}
    for m in spans:
        slot = (m.distinct_id, m.group_type, m.group_key)
        first, last = out.get(slot, (m.first, m.last))
        out[slot] = (min(first, m.first), max(last, m.last))
    return out


@given(event_lists(), randoms, dupes, st.integers(1, 5))
def test_memberships_ignore_arrival_order_duplicates_and_batching(
    events: list[Event], rnd: random.Random, n: int, size: int
) -> None:
    events = with_groups(events)
    arrived = shuffled_with_duplicates(events, rnd, n)
    batches = [arrived[i : i + size] for i in range(0, len(arrived), size)]
    spans = [m for batch in batches for m in memberships(batch)]
    assert folded(spans) == folded(memberships(events))
