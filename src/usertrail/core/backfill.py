"""Backfill from PostHog's query API: the HogQL page query, its rows as capture events, and
the resume point. Pure; services.backfill pages and stores.

Paging is by keyset on (timestamp, uuid), the order PostHog's events table sorts by, never by
OFFSET: a page is the same whatever was read before it, so a crash between two pages resumes
exactly, and an interrupted page is read again and deduplicated by uuid at the raw log.
"""

from __future__ import annotations

import uuid as uuidlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec
import orjson

from usertrail.core.decode import json_safe, parse_json
from usertrail.core.envelope import encode_body, event_identity
from usertrail.core.timestamps import parse_timestamp
from usertrail.errors import BadPayload, UsertrailError

COLUMNS = ("uuid", "event", "distinct_id", "timestamp", "properties", "elements_chain")
MAX_PAGE = 50_000  # PostHog: "up to 50k rows per query before we suggest paginating"


class Position(msgspec.Struct, frozen=True, kw_only=True):
    """The last (timestamp, uuid) read: the next page starts after it."""

    timestamp: datetime
    uuid: str

    def encode(self) -> str:
        return orjson.dumps({"timestamp": self.timestamp.isoformat(), "uuid": self.uuid}).decode()

    @classmethod
    def decode(cls, text: str) -> Position:
        """BadPayload for anything but what `encode` wrote (a row an older version left, or
        one edited by hand)."""
        try:
            data = parse_json(text)
        except BadPayload as exc:
            raise BadPayload(f"the saved position is not JSON: {exc.detail}") from None
        if not isinstance(data, dict):
            raise BadPayload("the saved position is not an object")
        return _position(data.get("timestamp"), data.get("uuid"), "the saved position")


class Skipped(msgspec.Struct, frozen=True, kw_only=True):
    """A row that is no event capture would take, and why."""

    uuid: str
    why: str


class Page(msgspec.Struct, frozen=True, kw_only=True):
    """One answer: its events, the rows skipped, and where it ended (its last row, skipped or
    not, so a page of rows that are no events still moves the import on)."""

    events: list[dict[str, Any]]
    skipped: list[Skipped]
    rows: int
    end: Position | None


def page_query(
    since: datetime, until: datetime | None, after: Position | None, limit: int
) -> dict[str, Any]:
    """The query API body for one page (HogQL, literals only from typed values)."""
    where = [f"timestamp >= {_ts(since)}"]
    if until is not None:
        where.append(f"timestamp < {_ts(until)}")
    if after is not None:
        where.append(f"(timestamp, uuid) > ({_ts(after.timestamp)}, toUUID('{_uuid(after.uuid)}'))")
    sql = (
        f"SELECT {', '.join(COLUMNS)} FROM events WHERE {' AND '.join(where)} "
        f"ORDER BY timestamp ASC, uuid ASC LIMIT {min(max(limit, 1), MAX_PAGE)}"
    )
    return {"query": {"kind": "HogQLQuery", "query": sql}}


def _ts(value: datetime) -> str:
    text = value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return f"toDateTime64('{text}', 6, 'UTC')"


def _uuid(value: str) -> str:
    return str(uuidlib.UUID(value))  # a uuid or ValueError: nothing else reaches the query


def read_page(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Page:
    """Query rows as the events PostHog's capture took: properties as an object, the elements
    chain back in `$elements_chain`, the time as stored. A row capture would refuse (its
    properties not a JSON object, no name or distinct id, too large) is skipped, not stored
    and not the end of the import; an answer not of rows, or a row that cannot be placed in
    the keyset order, is BadPayload: nothing after it could be paged to."""
    index = {name: i for i, name in enumerate(columns)}
    missing = [c for c in COLUMNS if c not in index]
    if missing:
        raise BadPayload(f"query answer lacks the columns {missing}")
    events, skipped = [], []
    row: dict[str, Any] = {}
    for values in rows:
        row = _row(index, values)
        try:
            events.append(_event(row))
        except UsertrailError as exc:
            skipped.append(Skipped(uuid=str(row["uuid"])[:100], why=exc.detail[:300]))
    end = _position(row["timestamp"], row["uuid"]) if rows else None
    return Page(events=events, skipped=skipped, rows=len(rows), end=end)


def _row(index: dict[str, int], values: Sequence[Any]) -> dict[str, Any]:
    if len(values) != len(index):
        raise BadPayload(f"a query row has {len(values)} values for {len(index)} columns")
    return {c: values[index[c]] for c in COLUMNS}


def _event(row: dict[str, Any]) -> dict[str, Any]:
    props = _properties(row["properties"])
    if row["elements_chain"]:
        props.setdefault("$elements_chain", row["elements_chain"])
    event = {
        "uuid": str(row["uuid"]),
        "event": row["event"],
        "distinct_id": row["distinct_id"],
        "timestamp": row["timestamp"],
        "properties": props,
    }
    event_identity(event)  # what the raw log would refuse, for the whole chunk: refused here
    encode_body(event)
    return event


def _properties(value: Any) -> dict[str, Any]:
    # As a string (HogQL's JSON column), parsed as capture parses bodies; as an object, the
    # answer's decoder (msgspec) kept its integers past 64 bits, which capture reads as floats.
    props = parse_json(value) if isinstance(value, str) and value else json_safe(value or {})
    if not isinstance(props, dict):
        raise BadPayload("its properties are not an object")
    return props


def _position(timestamp: Any, uuid: Any, what: str = "a query row") -> Position:
    when = parse_timestamp(timestamp)
    if when is None:
        raise BadPayload(f"{what}'s timestamp is not a time: {str(timestamp)[:100]!r}")
    try:
        _uuid(str(uuid))
    except ValueError:
        raise BadPayload(f"{what}'s uuid is not a uuid: {str(uuid)[:100]!r}") from None
    return Position(timestamp=when, uuid=str(uuid))
