"""The id rule (core.ids): what capture, URLs and MCP accept as a distinct id."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.factories import make_raw
from usertrail.core.envelope import find_distinct_id
from usertrail.core.identity import merge_edge
from usertrail.core.ids import MAX_ID_CHARS, checked_id, id_problem
from usertrail.errors import BadPayload

VALID = ["u_42", "josé", "a/b/c", "100%", "a b", "😀" * MAX_ID_CHARS, "x" * MAX_ID_CHARS, "‮"]
INVALID = ["", "   ", "a\x00b", "a\nb", "\x7f", "x" * (MAX_ID_CHARS + 1), "\ud800"]


@pytest.mark.parametrize("text", VALID)
def test_ordinary_unicode_slashes_and_percent_signs_are_ids(text: str) -> None:
    assert checked_id(text) == text


@pytest.mark.parametrize("text", INVALID)
def test_empty_long_control_and_surrogate_ids_are_refused_naming_the_rule(text: str) -> None:
    with pytest.raises(BadPayload, match="an id is 1 to 200 characters"):
        checked_id(text)


def test_a_long_distinct_id_is_refused_at_capture_never_cut() -> None:
    with pytest.raises(BadPayload, match="201 characters"):
        find_distinct_id({"distinct_id": "x" * 201})


def test_a_nul_in_a_distinct_id_is_refused_at_capture() -> None:
    with pytest.raises(BadPayload, match="control character"):
        find_distinct_id({"properties": {"distinct_id": "a\x00b"}})


@pytest.mark.parametrize("other", ["a\x00b", "x" * 201])
def test_an_identify_naming_an_impossible_id_merges_nothing(other: str) -> None:
    raw = make_raw("$identify", distinct_id="u1", properties={"$anon_distinct_id": other})
    assert merge_edge(raw) is None


@given(st.text(max_size=MAX_ID_CHARS + 20))
def test_any_text_is_either_an_id_as_given_or_refused_with_the_rule(text: str) -> None:
    problem = id_problem(text)
    if problem is None:
        assert checked_id(text) == text
        assert text.strip()
        assert len(text) <= MAX_ID_CHARS
        assert "\x00" not in text
    else:
        with pytest.raises(BadPayload):
            checked_id(text)
