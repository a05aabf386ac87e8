"""Integers past 64 bits from `usertrail import posthog`, through ingest, the processor and a
sink file, on SQLite and PostgreSQL: stored and written as capture reads them (floats), never
refused; the one RawEvent that could still hold one, built in code, stops at the raw log.

Every other source parses JSON as capture does (core.decode.parse_json: such a number is a
float), and everything downstream reads events back from the raw log, so the processor never
sees an integer orjson cannot write (core.sinks turns one into a float all the same).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine

from tests.factories import make_raw
from usertrail.adapters.sql.store import count_events
from usertrail.core.backfill import COLUMNS, read_page
from usertrail.core.decode import parse_json
from usertrail.errors import BadPayload
from usertrail.model.relay import QueryAnswer
from usertrail.settings import Settings
from usertrail.wiring import Runtime, build_runtime

PROJECT_FILE = """
sinks:
  training:
    when: {event: generation_failed}
    properties: [input_prompt, failure_reason]
    path: training.jsonl
"""
huge = st.sampled_from([2**64, -(2**63) - 1, 10**30, -(10**300)]) | st.integers(2**64, 10**40)
nested = st.recursive(
    huge | st.integers() | st.text(max_size=4),
    lambda inner: (
        st.lists(inner, min_size=1, max_size=3) | st.dictionaries(st.text(max_size=3), inner)
    ),
    max_leaves=6,
)


@pytest.fixture
async def runtime(tmp_path: Path, database_url: str) -> AsyncIterator[Runtime]:
    (tmp_path / "project.yaml").write_text(PROJECT_FILE)
    rt = build_runtime(
        Settings(
            data_dir=tmp_path,
            database_url=database_url,
            demo=False,
            project_file=tmp_path / "project.yaml",
        )
    )
    yield rt
    await rt.close()


def history_row(value: object) -> list[Any]:
    """A query API row whose properties came as an object, decoded as the adapter does."""
    props = {"input_prompt": "sum Q3", "failure_reason": value, "n": value}
    row = [str(uuid.uuid4()), "generation_failed", "ada", "2026-09-02T10:00:00Z", props, ""]
    wire = msgspec.json.encode({"columns": COLUMNS, "results": [row]})
    return msgspec.json.decode(wire, type=QueryAnswer).results[0]


def stored_events(database_url: str, project_id: str) -> int:
    engine = create_engine(Settings(database_url=database_url).sqlalchemy_url())
    try:
        with engine.connect() as conn:
            return count_events(conn, project_id)
    finally:
        engine.dispose()


def sink_lines(tmp_path: Path) -> dict[str, Any]:
    lines = (tmp_path / "training.jsonl").read_bytes().splitlines()
    return {record["uuid"]: record for record in map(orjson.loads, lines)}


@given(st.lists(nested, min_size=1, max_size=5))
@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
async def test_imported_big_integers_are_stored_processed_and_sunk_as_floats(
    runtime: Runtime, tmp_path: Path, database_url: str, values: list[object]
) -> None:
    project = runtime.default_project.id
    events = read_page(COLUMNS, [history_row(v) for v in values]).events

    assert (await runtime.ingest.backfill(project, events)).accepted == len(values)
    await runtime.processor.drain()
    await runtime.sinks.write_pending()

    written = sink_lines(tmp_path)
    for event, value in zip(events, values, strict=True):
        assert written[event["uuid"]]["failure_reason"] == parse_json(msgspec.json.encode(value))
    assert stored_events(database_url, project) == len(written)  # derived and stored, each


async def test_a_raw_event_built_in_code_with_a_huge_integer_stops_at_the_raw_log(
    runtime: Runtime,
) -> None:
    raw = make_raw("generation_failed", project_id=runtime.default_project.id)
    raw.body["properties"] = {"failure_reason": [2**64]}
    with pytest.raises(BadPayload, match="64-bit"):
        await runtime.event_log.append([raw])
