"""The relay's state on SQL: its cursor over the raw log, its dead letters, and the resume
points of `usertrail import posthog`. None of it is derived: `usertrail replay` keeps it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Connection, Engine, and_, func, select

from usertrail.adapters.sql.dialect import greatest, insert_for
from usertrail.adapters.sql.eventlog import from_us, to_us
from usertrail.adapters.sql.tables import (
    import_cursors,
    raw_events,
    relay_cursors,
    relay_dead_letters,
)
from usertrail.adapters.sql.writer import GroupCommitWriter
from usertrail.model.raw import LoggedEvent
from usertrail.model.relay import DeadLetter, RelaySummary

T = TypeVar("T")


class SqlRelayState:
    def __init__(self, writer: GroupCommitWriter, reader: Engine) -> None:
        self._writer = writer
        self._reader = reader
        self._known: dict[str, int] = {}  # cursors this process moved (it leads the relay)

    async def cursor(self, name: str) -> int:
        query = select(relay_cursors.c.seq).where(relay_cursors.c.name == name)
        return await self._read(lambda conn: int(conn.execute(query).scalar() or 0))

    async def start_cursor(self, name: str) -> int:
        """The cursor; the first time, set at the end of the raw log."""

        def run(conn: Connection) -> int:
            end: int = conn.execute(
                select(func.coalesce(func.max(raw_events.c.seq), 0))
            ).scalar_one()
            stmt = insert_for(conn, relay_cursors).values(name=name, seq=int(end))
            conn.execute(stmt.on_conflict_do_nothing(index_elements=["name"]))
            query = select(relay_cursors.c.seq).where(relay_cursors.c.name == name)
            return int(conn.execute(query).scalar_one())

        if (known := self._known.get(name)) is not None:
            return known
        self._known[name] = await self._writer.submit(run)
        return self._known[name]

    async def set_cursor(self, name: str, seq: int) -> None:
        def run(conn: Connection) -> None:
            stmt = insert_for(conn, relay_cursors).values(name=name, seq=seq)
            moved = greatest(conn, relay_cursors.c.seq, stmt.excluded.seq)
            conn.execute(stmt.on_conflict_do_update(index_elements=["name"], set_={"seq": moved}))

        await self._writer.submit(run)
        self._known[name] = max(seq, self._known.get(name, 0))

    async def dead_letter(self, events: Sequence[LoggedEvent], reason: str, now: datetime) -> None:
        rows = [
            {
                "project_id": e.raw.project_id,
                "uuid": e.raw.uuid,
                "seq": e.seq,
                "reason": reason[:2000],
                "dead_us": to_us(now),
            }
            for e in events
        ]

        def run(conn: Connection) -> None:
            stmt = insert_for(conn, relay_dead_letters).on_conflict_do_nothing()
            conn.execute(stmt, rows)

        await self._writer.submit(run, weight=len(rows))

    async def dead_letters(self, project_id: str, limit: int = 20) -> list[DeadLetter]:
        query = (
            select(relay_dead_letters)
            .where(relay_dead_letters.c.project_id == project_id)
            .order_by(relay_dead_letters.c.seq.desc())
            .limit(limit)
        )

        def run(conn: Connection) -> list[DeadLetter]:
            return [
                DeadLetter(
                    project_id=r.project_id,
                    uuid=r.uuid,
                    seq=r.seq,
                    reason=r.reason,
                    dead_at=from_us(r.dead_us),
                )
                for r in conn.execute(query)
            ]

        return await self._read(run)

    async def summary(self, project_id: str) -> RelaySummary:
        """Where one project's relay stands, from the database (any process can tell)."""

        def run(conn: Connection) -> RelaySummary:
            cursor = conn.execute(select(relay_cursors.c.seq)).scalar() or 0
            waiting = and_(
                raw_events.c.seq > cursor,
                raw_events.c.source == "capture",
                raw_events.c.project_id == project_id,
            )
            row = conn.execute(
                select(func.count(), func.min(raw_events.c.received_us)).where(waiting)
            ).one()
            backlog, oldest = int(row[0]), row[1]
            dead = conn.execute(
                select(func.count())
                .select_from(relay_dead_letters)
                .where(relay_dead_letters.c.project_id == project_id)
            ).scalar_one()
            return RelaySummary(
                backlog=backlog,
                oldest_waiting=from_us(int(oldest)) if oldest is not None else None,
                dead_letters=int(dead),
            )

        return await self._read(run)

    async def backlog(self, after_seq: int) -> int:
        """Events captured after the cursor (what the relay has still to look at)."""
        query = (
            select(func.count())
            .select_from(raw_events)
            .where(and_(raw_events.c.seq > after_seq, raw_events.c.source == "capture"))
        )
        return await self._read(lambda conn: int(conn.execute(query).scalar_one()))

    async def import_cursor(self, name: str) -> str | None:
        query = select(import_cursors.c.value).where(import_cursors.c.name == name)
        return await self._read(lambda conn: conn.execute(query).scalar())

    async def set_import_cursor(self, name: str, value: str, now: datetime) -> None:
        def run(conn: Connection) -> None:
            stmt = insert_for(conn, import_cursors).values(
                name=name, value=value, updated_us=to_us(now)
            )
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["name"],
                    set_={"value": stmt.excluded.value, "updated_us": stmt.excluded.updated_us},
                )
            )

        await self._writer.submit(run)

    async def _read(self, job: Callable[[Connection], T]) -> T:
        def run() -> T:
            with self._reader.connect() as conn:
                return job(conn)

        return await asyncio.to_thread(run)
