"""A tuple where an SDK sends a JSON array (a RawEvent built in code holds one; the raw log
and the bus give lists back) reads as that array: the same label, the same person update."""

from __future__ import annotations

from typing import Any

import pytest

from tests.core.test_identity import update
from tests.factories import make_event, make_raw
from usertrail.core.identity import apply_person_updates

ARRAYS: list[tuple[str, dict[str, Any]]] = [
    ("$exception", {"$exception_list": [{"type": "TypeError", "value": "x is undefined"}]}),
    ("survey sent", {"$survey_name": "NPS", "$survey_response": ["fast", "cheap/ü"]}),
]


def as_tuples(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: as_tuples(v) for k, v in value.items()}
    if isinstance(value, list):
        return tuple(as_tuples(v) for v in value)
    return value


@pytest.mark.parametrize(("name", "props"), ARRAYS, ids=[name for name, _ in ARRAYS])
def test_a_tuple_labels_an_event_as_its_array_does(name: str, props: dict[str, Any]) -> None:
    as_list = make_event(make_raw(name, properties=props))
    as_tuple = make_event(make_raw(name, properties=as_tuples(props)))
    assert as_tuple.label == as_list.label


def test_an_unset_tuple_removes_the_property_as_its_array_does() -> None:
    updates = [update({"$set": {"plan/ü": "pro"}}, at=1), update({"$unset": ("plan/ü",)}, at=2)]
    assert apply_person_updates(updates) == {}
