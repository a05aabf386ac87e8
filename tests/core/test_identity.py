from __future__ import annotations

from typing import Any

import pytest

from tests.factories import make_raw
from usertrail.core.identity import (
    apply_person_updates,
    component_of,
    is_illegal_id,
    merge_edge,
    merge_props,
    person_update,
    props_state,
    props_values,
    resolve,
)
from usertrail.model.identity import MergeEdge, PersonUpdate


def identify(user: str, anon: Any, at: float = 0, **props: Any) -> MergeEdge | None:
    props["$anon_distinct_id"] = anon
    return merge_edge(make_raw("$identify", distinct_id=user, at=at, properties=props))


def alias(user: str, other: str, at: float = 0, event: str = "$create_alias") -> MergeEdge | None:
    return merge_edge(make_raw(event, distinct_id=user, at=at, properties={"alias": other}))


def edges(*maybe: MergeEdge | None) -> list[MergeEdge]:
    assert all(e is not None for e in maybe)
    return [e for e in maybe if e is not None]


def update(properties: dict[str, Any], *, at: float = 0) -> PersonUpdate:
    found = person_update(make_raw(at=at, properties=properties))
    assert found is not None
    return found


# --- merge edges --------------------------------------------------------------------------


def test_identify_merges_anonymous_history_into_person() -> None:
    mapping = resolve(edges(identify("user_42", "anon-1")), seen_ids=["anon-1", "user_42"])
    assert mapping == {"anon-1": "user_42", "user_42": "user_42"}


def test_create_alias_joins_the_alias_to_the_person() -> None:
    assert resolve(edges(alias("user_42", "legacy-7")))["legacy-7"] == "user_42"


def test_merge_edge_reads_each_event_kind() -> None:
    found = edges(
        identify("u", "anon"),
        alias("u", "old"),
        alias("u", "other", event="$merge_dangerously"),
    )
    assert [(e.kind, e.distinct_id, e.other_id) for e in found] == [
        ("identify", "u", "anon"),
        ("alias", "u", "old"),
        ("merge_dangerously", "u", "other"),
    ]


def test_identify_without_anonymous_id_is_not_an_edge() -> None:
    assert merge_edge(make_raw("$identify", properties={})) is None


def test_identify_with_its_own_id_is_not_an_edge() -> None:
    assert identify("user_1", "user_1") is None


def test_numeric_ids_are_spelled_as_ingest_spells_them() -> None:
    edge = identify("user_1", 12345)
    assert edge is not None
    assert edge.other_id == "12345"


def test_events_that_opt_out_of_person_processing_never_merge() -> None:
    assert identify("user_1", "anon-1", **{"$process_person_profile": False}) is None


@pytest.mark.parametrize(
    "distinct_id",
    [
        *("anonymous", "Anonymous", "GUEST", "distinct_id", "Email", "undefined", "True", "false"),
        *("null", "None", "none", "0", "NaN", "[object Object]", '"null"', "'guest'", " ", ""),
    ],
)
def test_placeholder_ids_are_illegal(distinct_id: str) -> None:
    assert is_illegal_id(distinct_id)


@pytest.mark.parametrize("distinct_id", ["nan", "NULL", "00", "user_0", "anonymous-42"])
def test_ids_that_only_resemble_placeholders_are_legal(distinct_id: str) -> None:
    assert not is_illegal_id(distinct_id)


def test_blocklisted_ids_never_merge() -> None:
    blocked = [identify("user_1", "anonymous"), identify("user_2", "Anonymous"), identify("0", "a")]
    assert blocked == [None, None, None]
    stored = MergeEdge(
        uuid="u1", timestamp=make_raw().timestamp, kind="identify", distinct_id="x", other_id="null"
    )
    assert resolve([stored], seen_ids=["x", "null"]) == {"x": "x", "null": "null"}


# --- resolve --------------------------------------------------------------------------------


def test_identified_person_is_not_merged_without_merge_dangerously() -> None:
    # Two people who have both logged in: a later identify linking them must not merge them.
    mapping = resolve(
        edges(
            identify("alice", "anon-1", at=1),
            identify("bob", "anon-2", at=2),
            identify("bob", "alice", at=3),
        )
    )
    assert mapping["alice"] == mapping["anon-1"] == "alice"
    assert mapping["bob"] == mapping["anon-2"] == "bob"


def test_merge_dangerously_merges_identified_people() -> None:
    mapping = resolve(
        edges(
            identify("alice", "anon-1", at=1),
            identify("bob", "anon-2", at=2),
            alias("alice", "bob", at=3, event="$merge_dangerously"),
        )
    )
    assert mapping["bob"] == mapping["alice"] == mapping["anon-2"] == "alice"


def test_create_alias_also_marks_the_person_identified() -> None:
    # PostHog marks the target of every merge identified, aliases included.
    mapping = resolve(
        edges(
            identify("alice", "anon-1", at=0),
            alias("bob", "legacy-b", at=1),
            identify("alice", "bob", at=2),
        )
    )
    assert mapping["alice"] == mapping["anon-1"] == "alice"
    assert mapping["bob"] == mapping["legacy-b"] == "bob"


def test_a_new_id_joins_the_person_of_a_known_one() -> None:
    # PostHog adds the distinct id without the identified check when only one side has a person.
    mapping = resolve(edges(identify("alice", "anon-1", at=1), identify("alice-2", "alice", at=2)))
    assert mapping["alice-2"] == "alice"


def test_edges_replay_in_time_order_not_arrival_order() -> None:
    late_but_first = identify("alice", "anon-1", at=1)
    arrived_first = identify("bob", "anon-1", at=2)
    mapping = resolve(edges(arrived_first, late_but_first))
    assert mapping["anon-1"] == "alice"
    assert mapping["bob"] == "alice"  # bob had no person yet, so he joins alice's


def test_person_key_is_stable_when_unrelated_edges_are_added() -> None:
    mine = edges(identify("alice", "anon-1", at=5))
    others = edges(identify("bob", "anon-2", at=1), alias("carol", "anon-3", at=9))
    assert resolve(mine + others)["anon-1"] == resolve(mine)["anon-1"] == "alice"


def test_ids_only_seen_in_events_are_their_own_person() -> None:
    assert resolve([], seen_ids=["anon-9"]) == {"anon-9": "anon-9"}


def test_component_of_follows_edges_both_ways() -> None:
    found = edges(
        identify("alice", "anon-1", at=1),
        identify("alice", "anon-2", at=2),
        identify("bob", "anon-3", at=3),
    )
    assert component_of("anon-2", found) == {"alice", "anon-1", "anon-2"}
    assert component_of("stranger", found) == {"stranger"}


def test_component_of_does_not_cross_blocklisted_ids() -> None:
    stored = [
        MergeEdge(uuid=f"u{i}", timestamp=make_raw().timestamp, kind="identify", **ids)
        for i, ids in enumerate(
            [
                {"distinct_id": "alice", "other_id": "anonymous"},
                {"distinct_id": "bob", "other_id": "anonymous"},
            ]
        )
    ]
    assert component_of("alice", stored) == {"alice"}


# --- person properties ------------------------------------------------------------------------


def test_person_update_reads_properties_and_the_top_level() -> None:
    raw = make_raw(
        "$set",
        properties={"$set": {"plan": "free", "role": "admin"}, "$unset": {"trial": None}},
        body={"$set": {"plan": "pro"}, "$set_once": {"source": "ad"}},
    )
    found = person_update(raw)
    assert found is not None
    assert found.set == {"plan": "pro", "role": "admin"}
    assert found.set_once == {"source": "ad"}
    assert found.unset == ("trial",)


@pytest.mark.parametrize(
    "properties",
    [{}, {"$set": {"plan": "pro"}, "$process_person_profile": False}],
)
def test_events_without_person_writes_give_no_update(properties: dict[str, Any]) -> None:
    assert person_update(make_raw(properties=properties)) is None


def test_exceptions_never_update_the_person() -> None:
    assert person_update(make_raw("$exception", properties={"$set": {"plan": "x"}})) is None


def test_set_once_keeps_the_first_value_and_set_the_last() -> None:
    updates = [
        update({"$set": {"plan": "pro"}, "$set_once": {"source": "ad"}}, at=5),
        update({"$set": {"plan": "free"}, "$set_once": {"source": "seo"}}, at=1),
        update({"$set": {"email": "a@b.c"}}, at=3),
    ]
    assert apply_person_updates(updates) == {"plan": "pro", "source": "seo", "email": "a@b.c"}


def test_unset_removes_a_property_set_earlier() -> None:
    updates = [update({"$set": {"plan": "pro"}}, at=1), update({"$unset": ["plan"]}, at=2)]
    assert apply_person_updates(updates) == {}


def test_set_after_an_unset_restores_the_property() -> None:
    updates = [update({"$unset": ["plan"]}, at=2), update({"$set": {"plan": "pro"}}, at=3)]
    assert apply_person_updates(updates) == {"plan": "pro"}


def test_set_once_after_an_unset_fills_the_property_again() -> None:
    updates = [
        update({"$set": {"plan": "pro"}}, at=1),
        update({"$unset": ["plan"]}, at=2),
        update({"$set_once": {"plan": "trial"}}, at=3),
    ]
    assert apply_person_updates(updates) == {"plan": "trial"}


def test_set_once_does_not_override_a_set() -> None:
    updates = [
        update({"$set": {"plan": "pro"}}, at=1),
        update({"$set_once": {"plan": "x"}}, at=2),
    ]
    assert apply_person_updates(updates) == {"plan": "pro"}


def test_one_event_applies_set_once_then_set_then_unset() -> None:
    both = update({"$set": {"a": 1}, "$set_once": {"a": 0, "b": 2}, "$unset": ["b"]})
    assert apply_person_updates([both]) == {"a": 1}


def test_a_null_value_counts_as_set() -> None:
    updates = [update({"$set": {"plan": None}}, at=1), update({"$set_once": {"plan": 1}}, at=2)]
    assert apply_person_updates(updates) == {"plan": None}


def test_states_merged_incrementally_give_the_same_properties() -> None:
    first = update({"$set": {"plan": "free"}, "$set_once": {"source": "seo"}}, at=1)
    second = update({"$set": {"plan": "pro"}, "$set_once": {"source": "ad"}}, at=2)
    state = merge_props(props_state(second), props_state(first))
    assert props_values(state) == apply_person_updates([first, second])
    assert props_values(state) == {"plan": "pro", "source": "seo"}
