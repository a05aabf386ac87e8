"""The EventLog contract (ports.py), on every SQL backend."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete

from usertrail.adapters.sql.engine import create_schema, make_engine
from usertrail.adapters.sql.eventlog import SqlEventLog
from usertrail.adapters.sql.tables import raw_events
from usertrail.adapters.sql.writer import GroupCommitWriter
from usertrail.model.raw import RawEvent

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def raw(project_id: str = "p1", **kw: object) -> RawEvent:
    values: dict[str, object] = {
        "project_id": project_id,
        "uuid": str(uuid.uuid4()),
        "event": "clicked",
        "distinct_id": "u1",
        "timestamp": T0,
        "received_at": T0 + timedelta(seconds=1),
        "source": "capture",
        "body": {"event": "clicked", "properties": {"n": 1}},
        **kw,
    }
    return RawEvent(**values)  # type: ignore[arg-type]


@pytest.fixture
async def event_log(database_url: str) -> AsyncIterator[SqlEventLog]:
    engine = make_engine(database_url)
    writer_engine = make_engine(database_url, writer=True)
    create_schema(writer_engine)
    writer = GroupCommitWriter(writer_engine)
    yield SqlEventLog(writer, engine)
    writer.close()
    engine.dispose()
    writer_engine.dispose()


async def test_appended_events_read_back_in_log_order_exactly(event_log: SqlEventLog) -> None:
    events = [raw(distinct_id=f"u{i}") for i in range(5)]
    await event_log.append(events)
    logged = await event_log.read_after(0, 100)
    assert [item.raw for item in logged] == events
    assert [item.seq for item in logged] == sorted(item.seq for item in logged)


async def test_same_uuid_is_stored_once_per_project(event_log: SqlEventLog) -> None:
    event = raw()
    first = await event_log.append([event, event])
    again = await event_log.append([event])
    other_project = await event_log.append([raw(project_id="p2", uuid=event.uuid)])
    assert (first.accepted, first.duplicates) == (1, 1)
    assert (again.accepted, again.duplicates) == (0, 1)
    assert other_project.accepted == 1
    assert await event_log.count("p1") == 1


async def test_concurrent_appends_are_each_stored_once(event_log: SqlEventLog) -> None:
    batches = [[raw() for _ in range(20)] for _ in range(25)]
    results = await asyncio.gather(*(event_log.append(b) for b in batches + batches[:5]))
    assert sum(r.accepted for r in results) == 500
    assert sum(r.duplicates for r in results) == 100
    assert await event_log.count("p1") == 500


async def test_read_after_resumes_from_a_cursor(event_log: SqlEventLog) -> None:
    await event_log.append([raw() for _ in range(10)])
    first = await event_log.read_after(0, 4)
    rest = await event_log.read_after(first[-1].seq, 100)
    assert len(first) == 4
    assert len(rest) == 6


async def test_unicode_and_nul_characters_round_trip(event_log: SqlEventLog) -> None:
    event = raw(body={"event": "x", "properties": {"text": "naïve ☃ \u0000 end"}})
    await event_log.append([event])
    [logged] = await event_log.read_after(0, 10)
    assert logged.raw.body == event.body


async def test_a_deleted_newest_event_never_gives_its_seq_to_the_next(
    event_log: SqlEventLog, database_url: str
) -> None:
    """Erasure and retention delete raw rows; a reused seq could sit at or below a processor
    cursor and never be processed."""
    await event_log.append([raw() for _ in range(3)])
    newest = (await event_log.read_after(0, 100))[-1].seq
    engine = make_engine(database_url, writer=True)
    try:
        with engine.begin() as conn:
            conn.execute(delete(raw_events).where(raw_events.c.seq == newest))
    finally:
        engine.dispose()
    await event_log.append([raw()])
    [after] = await event_log.read_after(newest - 1, 100)
    assert after.seq > newest
