"""The derived store on SQL: writes go through the group-commit writer, reads use a pool."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import TypeVar

import msgspec
from sqlalchemy import Connection, Engine, bindparam, func, select

from usertrail.adapters.sql.derived import (
    apply_derived,
    clear_derived,
    read_cursor,
    set_cursor,
    slice_rows,
)
from usertrail.adapters.sql.dialect import insert_for
from usertrail.adapters.sql.eventlog import from_us, to_us
from usertrail.adapters.sql.groups import group_data, person_groups
from usertrail.adapters.sql.persons import events_of_ids, find_person, updates_of
from usertrail.adapters.sql.tables import (
    counter_members,
    counters,
    dead_events,
    events,
    persons,
    raw_events,
)
from usertrail.adapters.sql.tombstones import erasures
from usertrail.adapters.sql.writer import GroupCommitWriter
from usertrail.core.process import Derived
from usertrail.model.counter import Counter
from usertrail.model.event import Event
from usertrail.model.group import GroupData
from usertrail.model.person import PersonData, PersonRef
from usertrail.model.raw import LoggedEvent

T = TypeVar("T")
MAX_ERROR_CHARS = 300
_decode_event = msgspec.json.Decoder(Event).decode


class SqlDerivedStore:
    def __init__(self, writer: GroupCommitWriter, reader: Engine) -> None:
        self._writer = writer
        self._reader = reader
        # SQLite reads of one person take about a millisecond and release the GIL on every
        # row; in a thread, each row then waits for the busy event loop to hand the GIL back
        # (measured: 64 concurrent context reads ran at half the speed of one). Run inline.
        self._inline = reader.dialect.name == "sqlite"

    async def apply(
        self, derived: Derived, cursor: str | None, after: Awaitable[object] | None = None
    ) -> list[Event]:
        # Here, not on the writer thread (see SliceRows), and while the slice before it is
        # being written: the writer takes this one the moment that one commits.
        rows = slice_rows(derived.records)
        if after is not None:
            await after  # raises if it failed: then this slice is not written either
        return await self._writer.submit(
            lambda conn: apply_derived(conn, derived, cursor, rows), weight=len(derived.records)
        )

    async def clear(self) -> None:
        await self._writer.submit(clear_derived)

    async def total_raw(self) -> int:
        return await self._read(
            lambda conn: int(
                conn.execute(select(func.count()).select_from(raw_events)).scalar_one()
            )
        )

    async def cursor(self, name: str) -> int:
        return await self._read(lambda conn: read_cursor(conn, name))

    async def set_cursor(self, name: str, seq: int) -> None:
        await self._writer.submit(lambda conn: set_cursor(conn, name, seq))

    async def dead_letter(self, event: LoggedEvent, error: str, cursor: str, at: datetime) -> None:
        await self._writer.submit(lambda conn: record_dead(conn, event, error, cursor, at))

    async def erasures(self) -> tuple[int, int]:
        """Moves with every erasure (tombstones.erasures)."""
        return await self._read(erasures)

    async def dead_count(self) -> int:
        query = select(func.count()).select_from(dead_events)
        return await self._read(lambda conn: int(conn.execute(query).scalar_one()))

    async def person_data(self, project_id: str, distinct_id: str, limit: int) -> PersonData | None:
        """Everything the context builder needs, read in one connection (one thread hop)."""
        return await self._read(lambda conn: person_data(conn, project_id, distinct_id, limit))

    def persons_data_now(self, wanted: Sequence[tuple[str, str, int]]) -> list[PersonData | None]:
        """person_data of each (project, distinct id, limit), on the calling thread (the
        context service's builder thread), in one transaction: one BEGIN for a batch."""
        with self._reader.connect() as conn:
            return [person_data(conn, *person) for person in wanted]

    async def group_data(
        self, project_id: str, group: tuple[str, str], members: int, limit: int
    ) -> GroupData | None:
        """One account: its properties, up to `members` members and their `limit` newest
        events, and counters summed over its members."""
        return await self._read(
            lambda conn: group_data(
                conn, project_id, group, member_limit=members, event_limit=limit
            )
        )

    async def active_persons(
        self, project_id: str, since: datetime, limit: int
    ) -> list[tuple[str, datetime]]:
        """Persons with an event since `since`, most recent first."""
        query = (
            select(persons.c.person_key, func.max(persons.c.last_us).label("last"))
            .where(persons.c.project_id == project_id, persons.c.last_us >= to_us(since))
            .group_by(persons.c.person_key)
            .order_by(func.max(persons.c.last_us).desc())
            .limit(limit)
        )
        rows = await self._read(lambda conn: conn.execute(query).all())
        return [(r[0], from_us(r[1])) for r in rows]

    async def _read(self, fn: Callable[[Connection], T]) -> T:
        def run() -> T:
            with self._reader.connect() as conn:
                return fn(conn)

        if self._inline:
            return run()
        return await asyncio.to_thread(run)


def person_data(
    conn: Connection, project_id: str, distinct_id: str, limit: int
) -> PersonData | None:
    person = find_person(conn, project_id, distinct_id)
    if person is None:
        return None
    return PersonData(
        person=person,
        events=tuple(recent_events(conn, person, limit)),
        updates=tuple(updates_of(conn, person)),
        counters=tuple(counters_of(conn, person)),
        set_sizes=tuple(set_sizes_of(conn, person)),
        groups=tuple(person_groups(conn, person)),
    )


# Built once, as adapters.sql.persons' read statements are (see there).
_members = counter_members.c
_SET_SIZES = (
    select(_members.set_key, func.count(func.distinct(_members.member)))
    .where(
        _members.project_id == bindparam("project"),
        _members.distinct_id.in_(bindparam("ids", expanding=True)),
    )
    .group_by(_members.set_key)
)
_c = counters.c
_COUNTERS = select(_c.key, _c.count, _c.first_us, _c.last_us).where(
    _c.project_id == bindparam("project"), _c.distinct_id.in_(bindparam("ids", expanding=True))
)


def set_sizes_of(conn: Connection, person: PersonRef) -> list[tuple[str, int]]:
    """Distinct members per set over all the person's ids: a session seen under the anonymous
    id and again after login counts once."""
    return [(r[0], int(r[1])) for r in conn.execute(_SET_SIZES, _ids(person))]


def counters_of(conn: Connection, person: PersonRef) -> list[tuple[str, Counter]]:
    return [
        (r[0], Counter(count=r[1], first=from_us(r[2]), last=from_us(r[3])))
        for r in conn.execute(_COUNTERS, _ids(person))
    ]


def _ids(person: PersonRef) -> dict[str, object]:
    return {"project": person.project_id, "ids": list(person.distinct_ids)}


def recent_events(conn: Connection, person: PersonRef, limit: int) -> list[Event]:
    """The person's newest `limit` activity events, oldest first (see events_of_ids)."""
    return events_of_ids(conn, person.project_id, person.distinct_ids, limit)


def count_events(conn: Connection, project_id: str) -> int:
    query = select(func.count()).select_from(events).where(events.c.project_id == project_id)
    return int(conn.execute(query).scalar_one())


def record_dead(
    conn: Connection, event: LoggedEvent, error: str, cursor: str, at: datetime
) -> None:
    """The event listed as dead (once), and the cursor moved past it, in one transaction."""
    row = {
        "project_id": event.raw.project_id,
        "uuid": event.raw.uuid,
        "seq": event.seq,
        "error": error[:MAX_ERROR_CHARS],
        "failed_us": to_us(at),
    }
    stmt = insert_for(conn, dead_events).on_conflict_do_nothing(
        index_elements=["project_id", "uuid"]
    )
    conn.execute(stmt, [row])
    set_cursor(conn, cursor, event.seq)
