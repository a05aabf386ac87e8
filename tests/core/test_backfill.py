"""core.backfill: the query API page, its rows as events, and the resume point."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from usertrail.core.backfill import COLUMNS, Position, Skipped, page_query, read_page
from usertrail.core.decode import parse_json
from usertrail.core.envelope import MAX_EVENT_BYTES, encode_body
from usertrail.errors import BadPayload
from usertrail.model.relay import QueryAnswer

SINCE = datetime(2026, 9, 1, tzinfo=UTC)
UUID = "0190e2b1-7c4e-7d4a-9f3e-1a2b3c4d5e6f"


def sql(body: dict[str, object]) -> str:
    query = body["query"]
    assert isinstance(query, dict)
    assert query["kind"] == "HogQLQuery"
    return str(query["query"])


def test_the_first_page_is_bounded_by_time_and_ordered_by_the_keyset() -> None:
    text = sql(page_query(SINCE, datetime(2026, 12, 1, tzinfo=UTC), None, 10_000))
    assert (
        "FROM events WHERE timestamp >= toDateTime64('2026-09-01 00:00:00.000000', 6, 'UTC')"
        in text
    )
    assert "timestamp < toDateTime64('2026-12-01 00:00:00.000000', 6, 'UTC')" in text
    assert text.endswith("ORDER BY timestamp ASC, uuid ASC LIMIT 10000")
    assert "OFFSET" not in text


def test_the_next_page_starts_after_the_last_timestamp_and_uuid() -> None:
    after = Position(timestamp=datetime(2026, 9, 2, 10, 0, 0, 123456, tzinfo=UTC), uuid=UUID)
    text = sql(page_query(SINCE, None, after, 60_000))
    keyset = "(timestamp, uuid) > (toDateTime64('2026-09-02 10:00:00.123456', 6, 'UTC'), "
    assert f"{keyset}toUUID('{UUID}'))" in text
    assert text.endswith("LIMIT 50000")  # PostHog's ceiling for one query


def test_a_position_that_is_no_uuid_never_reaches_the_query() -> None:
    after = Position(timestamp=SINCE, uuid="x') OR 1=1 --")
    with pytest.raises(ValueError, match="badly formed"):
        page_query(SINCE, None, after, 10)


def test_rows_become_capture_events_with_their_elements_chain() -> None:
    row = [
        UUID,
        "$autocapture",
        "josé",
        "2026-09-02T10:00:00.123456Z",
        orjson.dumps({"$current_url": "https://app.test/billing"}).decode(),
        'button:text="Upgrade"',
    ]
    page = read_page(list(COLUMNS), [row])
    assert page.events == [
        {
            "uuid": UUID,
            "event": "$autocapture",
            "distinct_id": "josé",
            "timestamp": "2026-09-02T10:00:00.123456Z",
            "properties": {
                "$current_url": "https://app.test/billing",
                "$elements_chain": 'button:text="Upgrade"',
            },
        }
    ]
    assert page.end == Position(
        timestamp=datetime(2026, 9, 2, 10, 0, 0, 123456, tzinfo=UTC), uuid=UUID
    )


def test_an_answer_without_the_columns_is_refused() -> None:
    with pytest.raises(BadPayload, match="lacks the columns"):
        read_page(["uuid", "event"], [[UUID, "x"]])


def test_a_position_round_trips_through_its_text() -> None:
    at = Position(timestamp=datetime(2026, 9, 2, 10, tzinfo=UTC), uuid=UUID)
    assert Position.decode(at.encode()) == at
    assert read_page(list(COLUMNS), []).end is None


# Properties as an object, not HogQL's JSON string: the answer's decoder (msgspec) keeps
# integers past 64 bits, which capture's parse reads as floats and the raw log must encode.
big_ints = st.integers(-(10**300), 10**300) | st.sampled_from([2**64, -(2**63) - 1])
properties = st.dictionaries(
    st.text(max_size=5),
    st.recursive(
        st.none() | big_ints | st.text(max_size=5),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
        max_leaves=8,
    ),
)


@given(properties)
@settings(max_examples=200, deadline=None)
def test_an_object_of_properties_holds_big_integers_as_capture_reads_them(
    props: dict[str, object],
) -> None:
    row = [UUID, "$pageview", "josé", "2026-09-02T10:00:00Z", props, ""]
    wire = msgspec.json.encode({"columns": COLUMNS, "results": [row]})
    answer = msgspec.json.decode(wire, type=QueryAnswer)  # as adapters.posthog_query reads it

    [event] = read_page(answer.columns, answer.results).events

    assert event["properties"] == parse_json(msgspec.json.encode(props))
    assert encode_body(event)  # the raw log takes it


HOSTILE = "josé/ü \u202e"


def uuid_of(n: int) -> str:
    return f"0190e2b1-7c4e-7d4a-9f3e-{n:012d}"


def row(n: int, **values: object) -> list[object]:
    """A query row (the n-th of a page, a second apart) with `values` in place."""
    base = {
        "uuid": uuid_of(n),
        "event": "$pageview",
        "distinct_id": HOSTILE,
        "timestamp": f"2026-09-02T10:00:{n:02d}Z",
        "properties": '{"$current_url": "https://app.test/ü"}',
        "elements_chain": "",
    }
    return [{**base, **values}[c] for c in COLUMNS]


# Rows PostHog could hold that capture would refuse: skipped, each with why, never an error
# that stops the import (a re-run would stop at the same row: the import could never end).
REFUSED = [
    ("properties that are not JSON", {"properties": '{"$current_url": "https://ü'}, "JSON"),
    ("properties past a float's range", {"properties": '{"n": 1e400}'}, "JSON"),
    ("properties with a lone surrogate", {"properties": '{"k": "\ud800"}'}, "JSON"),
    ("properties that are no object", {"properties": "[1, 2]"}, "not an object"),
    ("no event name", {"event": None}, "no 'event' name"),
    ("an empty distinct id", {"distinct_id": " "}, "no distinct_id"),
    ("a distinct id too long", {"distinct_id": "ü/" * 101}, "202 characters"),
    ("a NUL in the distinct id", {"distinct_id": "a\x00b"}, "control character"),
    ("an event too large", {"properties": {"x": "é" * MAX_EVENT_BYTES}}, "bytes; the limit"),
]


@pytest.mark.parametrize(("values", "why"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_a_row_capture_would_refuse_is_skipped_and_the_page_still_ends_after_it(
    values: dict[str, object], why: str
) -> None:
    rows = [row(1), row(2, **values), row(3), row(4, **values)]
    page = read_page(list(COLUMNS), rows)
    assert [e["uuid"] for e in page.events] == [uuid_of(1), uuid_of(3)]
    assert [s.uuid for s in page.skipped] == [uuid_of(2), uuid_of(4)]
    assert all(why in s.why for s in page.skipped), page.skipped
    at = datetime(2026, 9, 2, 10, 0, 4, tzinfo=UTC)
    assert (page.rows, page.end) == (4, Position(timestamp=at, uuid=uuid_of(4)))


def test_a_page_of_rows_that_are_no_events_still_moves_the_import_on() -> None:
    page = read_page(list(COLUMNS), [row(n, properties="{") for n in range(3)])
    assert (page.events, page.rows) == ([], 3)
    at = datetime(2026, 9, 2, 10, 0, 2, tzinfo=UTC)
    assert page.end == Position(timestamp=at, uuid=uuid_of(2))
    assert page.skipped[0] == Skipped(uuid=uuid_of(0), why=page.skipped[0].why)


@pytest.mark.parametrize(
    "last",
    [row(2, timestamp="yesterday"), row(2, uuid="x') OR 1=1 --"), row(2)[:4]],
    ids=["timestamp", "uuid", "short"],
)
def test_a_row_the_keyset_cannot_place_is_bad_payload(last: list[object]) -> None:
    with pytest.raises(BadPayload):
        read_page(list(COLUMNS), [row(1), last])


@pytest.mark.parametrize(
    "saved",
    [
        "{not json",
        "\ud800",
        "[]",
        "{}",
        orjson.dumps({"timestamp": "2026-09-02T10:00:00Z"}).decode(),
        orjson.dumps({"timestamp": "noon", "uuid": UUID}).decode(),
        orjson.dumps({"timestamp": "2026-09-02T10:00:00Z", "uuid": "x') OR 1=1 --"}).decode(),
        orjson.dumps({"timestamp": 1e300, "uuid": UUID}).decode(),
    ],
)
def test_a_saved_position_that_cannot_be_read_is_bad_payload(saved: str) -> None:
    with pytest.raises(BadPayload, match="the saved position"):
        Position.decode(saved)


# Any JSON in any column, including what breaks ids and encoders (NUL, lone surrogates,
# 300-character ids, integers past 64 bits): a page, or BadPayload, never another error.
cells = st.recursive(
    st.none()
    | st.booleans()
    | big_ints
    | st.floats(allow_nan=False)
    | st.text(max_size=8)
    | st.sampled_from([HOSTILE, "\x00", "\ud800", "ü/" * 150, "{", "[1]", UUID, "2026-09-02"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=10,
)


@given(st.lists(st.lists(cells, min_size=6, max_size=6), max_size=4))
@settings(max_examples=300, deadline=None)
def test_any_row_is_an_event_a_skipped_row_or_bad_payload(rows: list[list[object]]) -> None:
    try:
        page = read_page(list(COLUMNS), rows)
    except BadPayload:
        return
    assert len(page.events) + len(page.skipped) == page.rows == len(rows)
    assert all(encode_body(e) for e in page.events)  # the raw log takes every one
