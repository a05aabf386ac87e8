"""Sinks as pure functions: the training-data line, redacted, or dropped when redaction fails."""

from __future__ import annotations

import enum
from dataclasses import dataclass

import msgspec
import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.factories import make_raw
from usertrail.core.decode import parse_json
from usertrail.core.sinks import sink_line, sink_records
from usertrail.model.config import ProjectConfig, SinkSpec

SPEC = SinkSpec.model_validate(
    {
        "when": {"event": "generation_failed"},
        "properties": ["input_prompt", "failure_reason"],
        "path": "training_data.jsonl",
    }
)
PROMPT = (
    "Email ada@example.com the Q3 report, card 4111 1111 1111 1111, call +44 20 7946 0958, "
    "key sk-live_abcdefghijklmnop, IBAN GB82 WEST 1234 5698 7654 32, from 10.1.2.3"
)


def failed(**props: object) -> bytes | None:
    raw = make_raw("generation_failed", distinct_id="ada@example.com", properties=props)
    return sink_line(SPEC, raw)


def test_a_line_has_the_issue_fields_and_the_event_uuid() -> None:
    line = failed(input_prompt="sum Q3", failure_reason="timeout", other="not copied")
    assert line is not None
    assert b"\n" not in line
    record = orjson.loads(line)
    assert set(record) == {
        "uuid",
        "project_id",
        "timestamp",
        "event",
        "distinct_id",
        "input_prompt",
        "failure_reason",
    }
    assert record["event"] == "generation_failed"
    assert record["project_id"] == "p1"  # one file serves every project: lines say whose
    assert (record["input_prompt"], record["failure_reason"]) == ("sum Q3", "timeout")


def test_pii_is_masked_in_every_user_field() -> None:
    line = failed(input_prompt=PROMPT, failure_reason={"detail": ["mail bob@corp.io"]})
    assert line is not None
    record = orjson.loads(line)
    for secret in ("ada@example.com", "4111", "7946", "abcdefghijklmnop", "WEST", "10.1.2.3"):
        assert secret not in line.decode()
    assert record["distinct_id"] == "[email]"
    assert record["failure_reason"] == {"detail": ["mail [email]"]}
    assert "the Q3 report" in record["input_prompt"]


def test_a_failing_redactor_drops_the_record() -> None:
    def broken(_text: str) -> str:
        raise RuntimeError("detector crashed")

    raw = make_raw("generation_failed", properties={"input_prompt": "x"})
    assert sink_line(SPEC, raw, broken) is None


def test_only_matching_events_reach_a_sink() -> None:
    config = ProjectConfig(sinks={"training": SPEC})
    assert [r.sink for r in sink_records(make_raw("generation_failed"), config)] == ["training"]
    assert list(sink_records(make_raw("feature_used"), config)) == []


# Integers of any size, alone or nested, as a RawEvent built in code (not parsed from JSON
# by capture) can hold them; within a float's range, so capture's parse is the oracle.
any_ints = st.integers(-(10**300), 10**300) | st.sampled_from([2**64, -(2**63) - 1, 10**30])
json_values = st.recursive(
    st.none() | st.booleans() | any_ints | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=12,
)


def unchanged(text: str) -> str:
    return text


@given(json_values)
@settings(max_examples=300, deadline=None)
def test_a_line_holds_any_integer_as_capture_would_read_it(value: object) -> None:
    raw = make_raw("generation_failed", properties={"failure_reason": value})
    line = sink_line(SPEC, raw, unchanged)
    assert line is not None
    assert orjson.loads(line)["failure_reason"] == parse_json(msgspec.json.encode(value))


def test_an_integer_past_a_floats_range_is_written_as_null() -> None:
    raw = make_raw("generation_failed", properties={"failure_reason": [10**400, -(10**400)]})
    line = sink_line(SPEC, raw, unchanged)
    assert line is not None
    assert orjson.loads(line)["failure_reason"] == [None, None]  # as orjson writes an inf


@dataclass(frozen=True)
class Reason:
    detail: str
    contact: tuple[str, ...]


class Channel(enum.Enum):
    SUPPORT = "mail bob@corp.io"


def test_pii_is_masked_in_any_container_a_line_can_hold() -> None:
    """Tuples (a RawEvent built in code), dataclasses and enums, which orjson writes as JSON,
    and the keys of objects: none of their strings passes unredacted."""
    reason = (
        ("mail bob@corp.io", {"bob@corp.io": "x"}),
        Reason(detail="card 4111 1111 1111 1111", contact=("+44 20 7946 0958",)),
        Channel.SUPPORT,
    )
    line = failed(input_prompt=("mail ada@example.com",), failure_reason=reason)
    assert line is not None
    for secret in ("example.com", "corp.io", "4111", "7946"):
        assert secret not in line.decode()
    record = orjson.loads(line)
    assert record["input_prompt"] == ["mail [email]"]
    assert record["failure_reason"][0] == ["mail [email]", {"[email]": "x"}]
    assert record["failure_reason"][2] == "mail [email]"


def test_a_value_no_line_can_hold_drops_the_record() -> None:
    raw = make_raw("generation_failed", properties={"input_prompt": {1: object()}})
    assert sink_line(SPEC, raw) is None
