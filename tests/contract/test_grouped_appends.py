"""Appends that meet in one commit group (adapters.sql.writer) each get their own exact count,
the log keeps the first copy of a uuid in queue order, and plain jobs queued between them run
between them. On SQLite and PostgreSQL, with hostile ids.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, func, select

from usertrail.adapters.sql.engine import create_schema, make_engine
from usertrail.adapters.sql.eventlog import SqlEventLog
from usertrail.adapters.sql.tables import raw_events
from usertrail.adapters.sql.writer import GroupCommitWriter
from usertrail.model.raw import RawEvent
from usertrail.ports import AppendResult

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
MAX_ROWS = 256  # a size past a chunk of a few hundred rows
# NUL as capture stores it (core.envelope.stored_name)
HOSTILE = ["ü/ß\u202e", "a/b/../c", "𝒳" * 3, "x" * 10_000, "\"';--", "id\ufffdnul"]


def raw(n: int, uuid_: str | None = None, **kw: Any) -> RawEvent:
    values: dict[str, Any] = {
        "project_id": "p1",
        "uuid": uuid_ or str(uuid.uuid4()),
        "event": "clicked",
        "distinct_id": HOSTILE[n % len(HOSTILE)],
        "timestamp": T0,
        "received_at": T0 + timedelta(seconds=1),
        "source": "capture",
        "body": {"event": "clicked", "properties": {"n": n, "big": 2**63 - 1, "huge": 1e308}},
        **kw,
    }
    return RawEvent(**values)


@dataclass
class Log:
    log: SqlEventLog
    writer: GroupCommitWriter
    engine: Any

    async def held(self) -> tuple[threading.Event, asyncio.Future[Any]]:
        """A job that keeps the writer busy until released: whatever is queued meanwhile
        is drained as one group after it."""
        release, started = threading.Event(), threading.Event()

        def hold(_conn: Connection) -> None:
            started.set()
            release.wait(10)

        job = self.writer.enqueue(hold)
        await asyncio.to_thread(started.wait, 10)
        return release, job

    async def grouped(self, *appends: Callable[[], Any]) -> list[Any]:
        """Each of `appends` started while the writer is held, so all commit in one group."""
        commits = self.writer.commits
        release, job = await self.held()
        tasks = [asyncio.ensure_future(a()) for a in appends]
        for _ in range(3):  # each task runs up to its enqueue
            await asyncio.sleep(0)
        release.set()
        await job
        results = await asyncio.gather(*tasks)
        assert self.writer.commits == commits + 2  # the held job's group, then theirs
        return results

    def stored(self) -> dict[str, str]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(raw_events.c.uuid, raw_events.c.distinct_id))
            return {r.uuid: r.distinct_id for r in rows}


@pytest.fixture
async def log(database_url: str) -> AsyncIterator[Log]:
    engine = make_engine(database_url)
    writer_engine = make_engine(database_url, writer=True)
    create_schema(writer_engine)
    writer = GroupCommitWriter(writer_engine)
    yield Log(SqlEventLog(writer, engine), writer, engine)
    writer.close()
    engine.dispose()
    writer_engine.dispose()


def counts(results: list[AppendResult]) -> list[tuple[int, int]]:
    return [(r.accepted, r.duplicates) for r in results]


async def test_new_appends_in_one_group_are_counted_each(log: Log) -> None:
    sizes = [1, 1, 3, MAX_ROWS + 1, 50, 1]
    batches = [[raw(i) for i in range(n)] for n in sizes]
    results = await log.grouped(*(lambda b=b: log.log.append(b) for b in batches))
    assert counts(results) == [(n, 0) for n in sizes]
    stored = log.stored()
    assert len(stored) == sum(sizes)
    assert {e.uuid: e.distinct_id for b in batches for e in b} == stored


async def test_a_duplicate_in_a_group_counts_exactly_and_the_first_copy_stays(log: Log) -> None:
    already = raw(0, distinct_id="stored before")
    await log.log.append([already])
    shared = str(uuid.uuid4())
    first = [raw(1, shared, distinct_id="first copy"), raw(2)]
    second = [raw(3), raw(4, shared, distinct_id="second copy")]
    retry = [raw(5, already.uuid, distinct_id="a retry's copy")]
    fresh = [raw(6) for _ in range(MAX_ROWS)]
    results = await log.grouped(
        lambda: log.log.append(first),
        lambda: log.log.append(second),
        lambda: log.log.append(retry),
        lambda: log.log.append(fresh),
    )
    assert counts(results) == [(2, 0), (1, 1), (0, 1), (MAX_ROWS, 0)]
    stored = log.stored()
    assert stored[shared] == "first copy"
    assert stored[already.uuid] == "stored before"
    assert len(stored) == 1 + 2 + 1 + MAX_ROWS


async def test_a_plain_job_between_appends_runs_between_them(log: Log) -> None:
    """Queue order holds across a batch: the job in the middle sees the first append's rows
    and not the second's."""
    before, after = [raw(i) for i in range(3)], [raw(i) for i in range(4)]

    def count(conn: Connection) -> int:
        return int(conn.execute(select(func.count()).select_from(raw_events)).scalar_one())

    results = await log.grouped(
        lambda: log.log.append(before),
        lambda: log.writer.submit(count),
        lambda: log.log.append(after),
    )
    assert counts([results[0], results[2]]) == [(3, 0), (4, 0)]
    assert results[1] == 3
