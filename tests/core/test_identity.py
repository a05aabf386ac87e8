from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.factories import make_raw
from usertrail.core.identity import (
    apply_person_updates,
    merge_edge,
    person_update,
    resolve,
)
from usertrail.model.identity import MergeEdge


def identify(user: str, anon: str, at: float = 0) -> MergeEdge:
    edge = merge_edge(
        make_raw("$identify", distinct_id=user, at=at, properties={"$anon_distinct_id": anon})
    )
    assert edge is not None
    return edge


def alias(user: str, other: str, at: float = 0, kind: str = "$create_alias") -> MergeEdge:
    edge = merge_edge(make_raw(kind, distinct_id=user, at=at, properties={"alias": other}))
    assert edge is not None
    return edge


def test_identify_merges_anonymous_history_into_person() -> None:
    mapping = resolve([identify("user_42", "anon-1")], seen_ids=["anon-1", "user_42"])
    assert mapping == {"anon-1": "user_42", "user_42": "user_42"}


def test_create_alias_joins_the_alias_to_the_person() -> None:
    assert resolve([alias("user_42", "legacy-7")])["legacy-7"] == "user_42"


def test_blocklisted_ids_never_merge() -> None:
    edges = [
        identify("user_1", "anonymous", at=1),
        identify("user_2", "anonymous", at=2),
        identify("user_3", "null", at=3),
        identify("0", "anon-9", at=4),
    ]
    mapping = resolve(edges, seen_ids=["user_1", "user_2", "anonymous"])
    assert mapping["user_1"] != mapping["user_2"]
    assert mapping["anonymous"] == "anonymous"
    assert mapping.get("anon-9", "anon-9") == "anon-9"


def test_identified_person_is_not_merged_without_merge_dangerously() -> None:
    # Two people who have both logged in: a later identify linking them must not merge them.
    edges = [
        identify("alice", "anon-1", at=1),
        identify("bob", "anon-2", at=2),
        identify("bob", "alice", at=3),
    ]
    mapping = resolve(edges)
    assert mapping["alice"] == mapping["anon-1"] == "alice"
    assert mapping["bob"] == mapping["anon-2"] == "bob"


def test_merge_dangerously_merges_identified_people() -> None:
    edges = [
        identify("alice", "anon-1", at=1),
        identify("bob", "anon-2", at=2),
        alias("alice", "bob", at=3, kind="$merge_dangerously"),
    ]
    mapping = resolve(edges)
    assert mapping["bob"] == mapping["alice"] == mapping["anon-2"] == "alice"


def test_identify_without_anonymous_id_is_not_an_edge() -> None:
    assert merge_edge(make_raw("$identify", properties={})) is None


@settings(max_examples=100)
@given(st.randoms(use_true_random=False), st.integers(min_value=0, max_value=3))
def test_resolution_ignores_arrival_order_and_duplicates(rnd: random.Random, dupes: int) -> None:
    edges = [
        identify("alice", "anon-1", at=1),
        identify("bob", "alice", at=2),
        alias("carol", "anon-3", at=3),
        identify("carol", "anon-4", at=4),
        alias("dave", "bob", at=5, kind="$merge_dangerously"),
        identify("erin", "anon-4", at=6),
    ]
    expected = resolve(edges)
    shuffled = edges + rnd.choices(edges, k=dupes)
    rnd.shuffle(shuffled)
    assert resolve(shuffled) == expected


def test_set_once_keeps_the_first_value_and_set_the_last() -> None:
    updates = [
        person_update(
            make_raw(properties={"$set": {"plan": "pro"}, "$set_once": {"source": "ad"}}, at=5)
        ),
        person_update(
            make_raw(properties={"$set": {"plan": "free"}, "$set_once": {"source": "seo"}}, at=1)
        ),
        person_update(make_raw("$set", body={"$set": {"email": "a@b.c"}}, at=3)),
    ]
    props = apply_person_updates([u for u in updates if u is not None])
    assert props == {"plan": "pro", "source": "seo", "email": "a@b.c"}


def test_unset_removes_a_property_set_earlier() -> None:
    updates = [
        person_update(make_raw(properties={"$set": {"plan": "pro"}}, at=1)),
        person_update(make_raw(properties={"$unset": ["plan"]}, at=2)),
    ]
    assert apply_person_updates([u for u in updates if u is not None]) == {}
