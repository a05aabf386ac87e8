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

from usertrail.core.decode import json_safe
from usertrail.core.timestamps import parse_timestamp
from usertrail.errors import BadPayload

COLUMNS = ("uuid", "event", "distinct_id", "timestamp", "properties", "elements_chain")
MAX_PAGE = 50_000  # PostHog: "up to 50k rows per query before we suggest paginating"


class Position(msgspec.Struct, frozen=True, kw_only=True):
    """The last (timestamp, uuid) stored: the next page starts after it."""

    timestamp: datetime
    uuid: str

    def encode(self) -> str:
        return orjson.dumps({"timestamp": self.timestamp.isoformat(), "uuid": self.uuid}).decode()

    @classmethod
    def decode(cls, text: str) -> Position:
        data = orjson.loads(text)
        return cls(timestamp=datetime.fromisoformat(data["timestamp"]), uuid=data["uuid"])


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


def events_of(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    """Query rows as the events PostHog's capture took: properties as an object, the elements
    chain back in `$elements_chain`, the time as stored."""
    index = {name: i for i, name in enumerate(columns)}
    missing = [c for c in COLUMNS if c not in index]
    if missing:
        raise BadPayload(f"query answer lacks the columns {missing}")
    return [_event({c: row[index[c]] for c in COLUMNS}) for row in rows]


def _event(row: dict[str, Any]) -> dict[str, Any]:
    props = row["properties"]
    # As a string (HogQL's JSON column), parsed as capture parses bodies; as an object, the
    # answer's decoder (msgspec) kept its integers past 64 bits, which capture reads as floats.
    props = orjson.loads(props) if isinstance(props, str) and props else json_safe(props or {})
    if not isinstance(props, dict):
        raise BadPayload("a row's properties are not an object")
    if row["elements_chain"]:
        props.setdefault("$elements_chain", row["elements_chain"])
    return {
        "uuid": str(row["uuid"]),
        "event": row["event"],
        "distinct_id": row["distinct_id"],
        "timestamp": row["timestamp"],
        "properties": props,
    }


def last_position(events: Sequence[dict[str, Any]]) -> Position | None:
    if not events:
        return None
    last = events[-1]
    when = parse_timestamp(str(last["timestamp"]))
    if when is None:
        raise BadPayload(f"a row's timestamp is not a time: {last['timestamp']!r}")
    return Position(timestamp=when, uuid=last["uuid"])
