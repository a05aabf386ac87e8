"""The raw log commits in seq order, whoever writes it: the embedded processor follows the log
by seq (LogFeed), so a seq that became visible after a higher one would be passed and never
processed. SQLite has one writer at a time; PostgreSQL draws a seq at INSERT, before the
commit, so its appends take the raw-log lock (dialect.lock_raw_log) until they commit.

"Another process" here is a second write connection holding an append open, as the
group-commit writer of a second `serve` (or an ingest process) does between its INSERT and
its COMMIT."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, event, select

from tests import backends
from tests.contract.test_event_log import raw
from tests.contract.test_feeds import CONFIG, sql
from usertrail.adapters.sql.engine import create_schema, make_engine
from usertrail.adapters.sql.eventlog import SqlEventLog, insert_raw, raw_row
from usertrail.adapters.sql.tables import events
from usertrail.adapters.sql.writer import GroupCommitWriter
from usertrail.model.raw import RawEvent
from usertrail.observability import Metrics
from usertrail.services.feeds import LogFeed
from usertrail.services.processor import Processor

# Ids a client may send (core.ids): non-ASCII, `/`, right-to-left marks, 200 characters.
FIRST_ID = "team/acme/josé/😀/" + "é" * 150
SECOND_ID = "\u202e用户/42/" + "x" * 190
HELD_S = 0.5  # how long the other writer keeps its append open


@contextmanager
def open_append(url: str, event: RawEvent) -> Iterator[Connection]:
    """Another writer's append, its seq drawn and not committed until the block ends."""
    engine = make_engine(url, writer=True)
    try:
        with engine.connect() as conn, conn.begin():
            assert insert_raw(conn, [raw_row(event)]) == 1
            yield conn
    finally:
        engine.dispose()


async def test_an_append_committed_after_a_higher_seq_is_still_processed(
    database_url: str,
) -> None:
    first, second = raw(distinct_id=FIRST_ID), raw(distinct_id=SECOND_ID)
    async with sql(database_url) as (log, store, engine):
        processor = Processor(LogFeed(log, store), store, lambda _p: CONFIG, Metrics())
        with open_append(database_url, first):
            appending = asyncio.create_task(log.append([second]))  # the next seq
            await asyncio.sleep(HELD_S)
            waited = not appending.done()
            await processor.drain()  # before the fix: processed `second`, cursor past `first`
        assert (await appending).accepted == 1  # it goes in once the other one committed
        await processor.drain()
        with engine.connect() as conn:
            processed: set[str] = set(conn.scalars(select(events.c.uuid)))
    assert processed == {first.uuid, second.uuid}
    assert waited  # seqs go to one append at a time, until its commit


def test_scale_out_appends_do_not_wait_for_each_other() -> None:
    """With the bus nothing follows the log by seq alone (the relay and the reconciler wait
    behind gaps), so ingest processes take no lock: their commits overlap."""

    async def append_beside_an_open_one(url: str) -> int:
        async with sql(url) as (_log, _store, engine):
            writer = GroupCommitWriter(make_engine(url, writer=True))
            log = SqlEventLog(writer, engine, ordered=False)
            try:
                with open_append(url, raw(distinct_id=FIRST_ID)):
                    appending = log.append([raw(distinct_id=SECOND_ID)])
                    return (await asyncio.wait_for(appending, HELD_S * 4)).accepted
            finally:
                writer.close()

    with backends.pg_schema_url() as url:
        assert asyncio.run(append_beside_an_open_one(url)) == 1


def test_a_transaction_takes_the_raw_log_lock_once() -> None:
    """Every append of a commit group asks for the lock; only the first asks PostgreSQL, and
    the next transaction asks again (the last one's commit released it)."""
    with backends.pg_schema_url() as url:
        engine = make_engine(url, writer=True)
        create_schema(engine)
        taken: list[str] = []

        @event.listens_for(engine, "before_cursor_execute")
        def count(_c: Any, _cur: Any, statement: str, *_args: Any) -> None:
            if "pg_advisory_xact_lock" in statement:
                taken.append(statement)

        try:
            for expected in (1, 2):
                with engine.connect() as conn, conn.begin():
                    for _ in range(3):
                        assert insert_raw(conn, [raw_row(raw(distinct_id=FIRST_ID))]) == 1
                assert len(taken) == expected
        finally:
            engine.dispose()
