from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from usertrail.core.capture import split_request
from usertrail.core.envelope import encode_body, event_uuid, find_distinct_id, to_raw_events
from usertrail.errors import BadPayload, PayloadTooLarge, UsertrailError

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def event(**kw: Any) -> dict[str, Any]:
    return {"event": "clicked", "distinct_id": "u1", **kw}


def test_batch_envelope_gives_token_and_sent_at() -> None:
    batch = split_request(
        {"api_key": "phc_a", "batch": [event()], "sent_at": "2026-11-24T11:00:00+00:00"}, query={}
    )
    assert batch.token == "phc_a"
    assert batch.sent_at == datetime(2026, 11, 24, 11, 0, tzinfo=UTC)


def test_array_of_events_is_accepted() -> None:
    batch = split_request([event(), event(event="other")], query={})
    assert [e["event"] for e in batch.events] == ["clicked", "other"]


@pytest.mark.parametrize(
    "payload",
    [
        {"token": "phc_t", "batch": [event()]},
        event(api_key="phc_t"),
        event(token="phc_t"),
        event(**{"$token": "phc_t"}),
        event(properties={"token": "phc_t"}),
    ],
    ids=["batch-token", "api_key", "token", "$token", "properties.token"],
)
def test_token_is_found_where_posthog_finds_it(payload: Any) -> None:
    assert split_request(payload, query={}).token == "phc_t"


def test_sent_at_comes_from_the_underscore_query_param_for_posthog_js() -> None:
    batch = split_request(event(), query={"_": "1795000000000"})
    assert batch.sent_at == datetime.fromtimestamp(1795000000, tz=UTC)


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"distinct_id": "top"}, "top"),
        ({"$distinct_id": "dollar"}, "dollar"),
        ({"properties": {"distinct_id": "props"}}, "props"),
        ({"distinct_id": 42}, "42"),
        ({"distinct_id": " spaced\t"}, "spaced"),
    ],
)
def test_distinct_id_is_found_where_posthog_finds_it(payload: Any, expected: str) -> None:
    assert find_distinct_id(payload) == expected


def test_engage_payload_becomes_an_identify_event() -> None:
    batch = split_request({"$distinct_id": "u1", "$set": {"plan": "pro"}}, query={}, engage=True)
    assert batch.events[0]["event"] == "$identify"


@pytest.mark.parametrize(
    "payload",
    [42, "text", [], {"batch": "nope"}, [1, 2], {"event": "x", "properties": []}],
    ids=["number", "string", "empty", "batch-not-list", "non-object-events", "props-list"],
)
def test_malformed_shapes_are_bad_payloads(payload: Any) -> None:
    with pytest.raises(BadPayload):
        split_request(payload, query={})


def test_a_nul_in_a_name_is_stored_as_a_replacement_character() -> None:
    """PostgreSQL text cannot hold NUL; the body keeps the event exactly as received."""
    body = event(event="clicked\x00", distinct_id="u")
    raw = to_raw_events(split_request(body, query={}), project_id="p", now=NOW, source="s")[0]
    assert raw.event == "clicked\ufffd"
    assert raw.body["event"] == "clicked\x00"


def test_a_nul_in_a_distinct_id_refuses_the_request_naming_the_id_rule() -> None:
    """Replacing it would make "u\\x00" and "u\\ufffd" one person; the client must know."""
    batch = split_request(event(distinct_id="u\x00"), query={})
    with pytest.raises(BadPayload, match="control character"):
        to_raw_events(batch, project_id="p", now=NOW, source="s")


def test_event_without_distinct_id_is_a_bad_payload() -> None:
    batch = split_request({"event": "x"}, query={})
    with pytest.raises(BadPayload, match="distinct_id"):
        to_raw_events(batch, project_id="p", now=NOW, source="capture")


def test_missing_uuid_is_derived_stably_from_content() -> None:
    assert event_uuid(event(timestamp="t1")) == event_uuid(event(timestamp="t1"))
    assert event_uuid(event(timestamp="t1")) != event_uuid(event(timestamp="t2"))


@pytest.mark.parametrize(
    "sent",
    [
        "0190F6C2-1B2B-7C3D-8E4F-A1B2C3D4E5F6",
        "0190f6c2-1b2b-7c3d-8e4f-a1b2c3d4e5f6",
        "{0190f6c2-1b2b-7c3d-8e4f-a1b2c3d4e5f6}",
        "urn:uuid:0190f6c2-1b2b-7c3d-8e4f-a1b2c3d4e5f6",
        "0190f6c21b2b7c3d8e4fa1b2c3d4e5f6",
    ],
)
def test_given_uuid_is_kept_in_canonical_form(sent: str) -> None:
    assert event_uuid(event(uuid=sent)) == "0190f6c2-1b2b-7c3d-8e4f-a1b2c3d4e5f6"


def test_a_given_uuid_that_is_not_one_is_replaced_by_a_derived_one() -> None:
    derived = event_uuid(event(uuid="0190f6c2-1b2b-7c3d-8e4f-a1b2c3d4e5fg"))
    assert derived == event_uuid(event(uuid="0190f6c2-1b2b-7c3d-8e4f-a1b2c3d4e5fg"))
    assert str(uuid.UUID(derived)) == derived


def test_clock_skew_is_corrected_with_sent_at() -> None:
    # The client's clock runs an hour fast: the event happened 5 s before it was sent.
    batch = split_request(
        {
            "api_key": "k",
            "sent_at": "2026-11-24T13:00:05+00:00",
            "batch": [event(timestamp="2026-11-24T13:00:00+00:00")],
        },
        query={},
    )
    raw = to_raw_events(batch, project_id="p", now=NOW, source="capture")[0]
    assert raw.timestamp == NOW - timedelta(seconds=5)


def test_offset_is_used_when_there_is_no_sent_at() -> None:
    batch = split_request(event(offset=2500), query={})
    raw = to_raw_events(batch, project_id="p", now=NOW, source="capture")[0]
    assert raw.timestamp == NOW - timedelta(milliseconds=2500)


def test_timestamps_far_in_the_future_are_replaced_by_now() -> None:
    batch = split_request(event(timestamp="2099-01-01T00:00:00Z"), query={})
    assert to_raw_events(batch, project_id="p", now=NOW, source="capture")[0].timestamp == NOW


def test_event_larger_than_one_megabyte_is_too_large() -> None:
    with pytest.raises(PayloadTooLarge):
        encode_body(event(properties={"blob": "x" * (1024 * 1024)}))


# Values as orjson hands them over: any JSON, including the awkward corners.
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(codec="utf-8"), max_size=20)
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
KEYS = st.sampled_from(
    ["event", "distinct_id", "$distinct_id", "properties", "uuid", "timestamp", "sent_at",
     "offset", "api_key", "token", "$token", "$set", "batch", "historical_migration"]
)  # fmt: skip
EVENTS = st.dictionaries(KEYS, JSON | st.dictionaries(KEYS | st.text(max_size=6), JSON), max_size=8)
PAYLOADS = (
    JSON
    | EVENTS
    | st.lists(EVENTS, max_size=4)
    | st.fixed_dictionaries(
        {"batch": st.lists(EVENTS, max_size=4) | JSON}, optional={"api_key": JSON, "sent_at": JSON}
    )
)
QUERIES = st.dictionaries(st.sampled_from(["_", "token", "api_key", "compression"]), st.text())


@settings(max_examples=300)
@given(PAYLOADS, QUERIES, st.booleans())
def test_any_decoded_body_becomes_raw_events_or_a_payload_error(
    payload: Any, query: dict[str, str], engage: bool
) -> None:
    """Split, check, convert and encode for storage, as ingest does, on any JSON at all."""
    try:
        batch = split_request(payload, query=query, engage=engage)
        raws = to_raw_events(batch, project_id="p", now=NOW, source="capture")
        stored = [encode_body(raw.body) for raw in raws]
    except (BadPayload, PayloadTooLarge) as exc:
        refused: UsertrailError = exc
        assert refused.detail  # every refusal says why
        return
    assert len(stored) == len(batch.events) > 0
    assert all(raw.distinct_id and raw.event for raw in raws)
