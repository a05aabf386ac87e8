"""Reads for the dashboard: who is active now, and the raw event behind a label."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

import msgspec
from sqlalchemy import Connection, Engine, func, select

from usertrail.adapters.sql.eventlog import from_us, logged_event, to_us
from usertrail.adapters.sql.tables import events, persons, raw_events
from usertrail.core.posthog_events import STATE
from usertrail.model.event import Event
from usertrail.model.raw import RawEvent
from usertrail.model.timeline import ActivePerson

T = TypeVar("T")
_decode_event = msgspec.json.Decoder(Event).decode


class SqlBrowse:
    def __init__(self, reader: Engine) -> None:
        self._reader = reader
        # As the derived store: SQLite reads run inline (cheaper than a thread hop), others
        # in a thread so a network round trip never blocks the event loop.
        self._inline = reader.dialect.name == "sqlite"

    async def active(self, project_id: str, since: datetime, limit: int) -> list[ActivePerson]:
        """Persons with an event since `since`, most recent first, with their last event."""
        return await self._read(lambda conn: active_persons(conn, project_id, to_us(since), limit))

    async def raw_event(self, project_id: str, uuid: str) -> RawEvent | None:
        """The event as received (decoded), from the raw log; None in another project."""
        query = select(raw_events).where(
            raw_events.c.project_id == project_id, raw_events.c.uuid == uuid
        )
        row = await self._read(lambda conn: conn.execute(query).first())
        return logged_event(row._mapping).raw if row is not None else None

    async def _read(self, fn: Callable[[Connection], T]) -> T:
        def run() -> T:
            with self._reader.connect() as conn:
                return fn(conn)

        return run() if self._inline else await asyncio.to_thread(run)


def active_persons(
    conn: Connection, project_id: str, since_us: int, limit: int
) -> list[ActivePerson]:
    last = func.max(persons.c.last_us)
    keys = conn.execute(
        select(persons.c.person_key, last)
        .where(persons.c.project_id == project_id, persons.c.last_us >= since_us)
        .group_by(persons.c.person_key)
        .order_by(last.desc())
        .limit(limit)
    ).all()
    return [_active(conn, project_id, str(row[0]), int(row[1])) for row in keys]


def _active(conn: Connection, project_id: str, key: str, last_us: int) -> ActivePerson:
    ids: tuple[str, ...] = tuple(
        conn.execute(
            select(persons.c.distinct_id)
            .where(persons.c.project_id == project_id, persons.c.person_key == key)
            .order_by(persons.c.first_us, persons.c.distinct_id)
        ).scalars()
    )
    latest = last_event(conn, project_id, ids)
    return ActivePerson(
        id=key,
        distinct_ids=ids,
        last_seen=from_us(last_us),
        last_label=latest.label if latest else None,
        last_page=latest.page if latest else None,
    )


def last_event(conn: Connection, project_id: str, distinct_ids: tuple[str, ...]) -> Event | None:
    """One reverse index scan per id, each stopping at its first row (see recent_events)."""
    newest: tuple[int, bytes] | None = None
    for distinct_id in distinct_ids:
        row = conn.execute(
            select(events.c.ts_us, events.c.data)
            .where(
                events.c.project_id == project_id,
                events.c.distinct_id == distinct_id,
                events.c.kind != STATE,  # updates are not what the person last did
            )
            .order_by(events.c.ts_us.desc())
            .limit(1)
        ).first()
        if row is not None and (newest is None or row[0] > newest[0]):
            newest = (row[0], row[1])
    return _decode_event(newest[1]) if newest else None
