"""core.backfill: the query API page, its rows as events, and the resume point."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from usertrail.core.backfill import COLUMNS, Position, events_of, last_position, page_query
from usertrail.core.decode import parse_json
from usertrail.core.envelope import encode_body
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
    [event] = events_of(list(COLUMNS), [row])
    assert event == {
        "uuid": UUID,
        "event": "$autocapture",
        "distinct_id": "josé",
        "timestamp": "2026-09-02T10:00:00.123456Z",
        "properties": {
            "$current_url": "https://app.test/billing",
            "$elements_chain": 'button:text="Upgrade"',
        },
    }
    assert last_position([event]) == Position(
        timestamp=datetime(2026, 9, 2, 10, 0, 0, 123456, tzinfo=UTC), uuid=UUID
    )


def test_an_answer_without_the_columns_is_refused() -> None:
    with pytest.raises(BadPayload, match="lacks the columns"):
        events_of(["uuid", "event"], [[UUID, "x"]])


def test_a_position_round_trips_through_its_text() -> None:
    at = Position(timestamp=datetime(2026, 9, 2, 10, tzinfo=UTC), uuid=UUID)
    assert Position.decode(at.encode()) == at
    assert last_position([]) is None


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

    [event] = events_of(answer.columns, answer.results)

    assert event["properties"] == parse_json(msgspec.json.encode(props))
    assert encode_body(event)  # the raw log takes it
