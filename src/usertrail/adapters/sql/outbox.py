"""The outbox on SQL: trigger deliveries and sink lines waiting to leave, and their history.

Writes go through the group-commit writer (one writer for SQLite). A delivery being sent is
leased by pushing its due time past the send timeout, so a crashed sender's claims come due
again instead of being lost, and two senders never hold the same row at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

import msgspec
from sqlalchemy import Connection, Engine, and_, select, update

from usertrail.adapters.sql.eventlog import from_us, to_us
from usertrail.adapters.sql.persons import find_person
from usertrail.adapters.sql.tables import deliveries, sink_records, trigger_firings
from usertrail.adapters.sql.writer import GroupCommitWriter
from usertrail.model.actions import (
    DEAD,
    DELIVERED,
    PENDING,
    Delivery,
    Firing,
    Message,
    PendingLine,
    PersonActions,
    SinkStatus,
)

T = TypeVar("T")
_decode_message = msgspec.json.Decoder(Message).decode
WRITTEN = "written"


class SqlOutbox:
    def __init__(self, writer: GroupCommitWriter, reader: Engine) -> None:
        self._writer = writer
        self._reader = reader

    # --- deliveries ---------------------------------------------------------------------

    async def claim_due(self, now: datetime, limit: int, lease: timedelta) -> list[Delivery]:
        return await self._writer.submit(lambda conn: _claim(conn, now, limit, lease))

    async def next_due(self) -> datetime | None:
        """When the earliest pending delivery comes due (None: nothing pending)."""
        query = select(deliveries.c.next_us).where(deliveries.c.status == PENDING)
        value = await self._read(
            lambda conn: conn.execute(query.order_by(deliveries.c.next_us).limit(1)).scalar()
        )
        return from_us(value) if value is not None else None

    async def delivered(self, delivery_id: int) -> None:
        await self._set(delivery_id, status=DELIVERED, last_error=None)

    async def failed(self, delivery_id: int, error: str, retry_at: datetime | None) -> None:
        """Record a failed attempt: due again at `retry_at`, or dead when that is None."""
        if retry_at is None:
            await self._set(delivery_id, status=DEAD, last_error=error)
        else:
            await self._set(delivery_id, last_error=error, next_us=to_us(retry_at))

    async def retry(self, now: datetime, ids: Sequence[int] = ()) -> int:
        """Dead deliveries (these, or all) go back to pending, due now. Returns how many."""
        stmt = update(deliveries).where(deliveries.c.status == DEAD)
        if ids:
            stmt = stmt.where(deliveries.c.id.in_(ids))
        stmt = stmt.values(status=PENDING, next_us=to_us(now))
        return await self._writer.submit(lambda conn: conn.execute(stmt).rowcount)

    async def deliveries(
        self, *, status: str | None = None, project_id: str | None = None, limit: int = 100
    ) -> list[Delivery]:
        query = select(deliveries).order_by(deliveries.c.id.desc()).limit(limit)
        if status:
            query = query.where(deliveries.c.status == status)
        if project_id:
            query = query.where(deliveries.c.project_id == project_id)
        rows = await self._read(lambda conn: conn.execute(query).all())
        return [_delivery(row._mapping) for row in rows]

    async def person_actions(self, project_id: str, distinct_id: str) -> PersonActions | None:
        return await self._read(lambda conn: _person_actions(conn, project_id, distinct_id))

    # --- sink lines ---------------------------------------------------------------------

    async def pending_lines(self, limit: int) -> list[PendingLine]:
        query = (
            select(sink_records.c.id, sink_records.c.path, sink_records.c.uuid, sink_records.c.line)
            .where(sink_records.c.status == PENDING)
            .order_by(sink_records.c.id)
            .limit(limit)
        )
        rows = await self._read(lambda conn: conn.execute(query).all())
        return [PendingLine(id=r[0], path=r[1], uuid=r[2], line=r[3]) for r in rows]

    async def lines_written(self, ids: Sequence[int]) -> None:
        stmt = update(sink_records).where(sink_records.c.id.in_(ids)).values(status=WRITTEN)
        await self._writer.submit(lambda conn: conn.execute(stmt))

    async def written_through(self, path: str, uuid: str) -> int:
        """After a crash: the file's last line is `uuid`, so it and every pending line of that
        file before it were written. Returns how many were marked."""
        return await self._writer.submit(lambda conn: _written_through(conn, path, uuid))

    # --- helpers ------------------------------------------------------------------------

    async def _set(self, delivery_id: int, **values: Any) -> None:
        stmt = (
            update(deliveries)
            .where(deliveries.c.id == delivery_id)
            .values(attempts=deliveries.c.attempts + 1, **values)
        )
        await self._writer.submit(lambda conn: conn.execute(stmt))

    async def _read(self, fn: Callable[[Connection], T]) -> T:
        def run() -> T:
            with self._reader.connect() as conn:
                return fn(conn)

        return run()  # small indexed reads: cheaper inline than a thread hop


def _claim(conn: Connection, now: datetime, limit: int, lease: timedelta) -> list[Delivery]:
    due = (
        select(deliveries)
        .where(deliveries.c.status == PENDING, deliveries.c.next_us <= to_us(now))
        .order_by(deliveries.c.next_us, deliveries.c.id)
        .limit(limit)
        # PostgreSQL: workers claiming at once take different rows (SQLite has one writer).
        .with_for_update(skip_locked=True)
    )
    claimed = [_delivery(row._mapping) for row in conn.execute(due)]
    if claimed:
        conn.execute(
            update(deliveries)
            .where(deliveries.c.id.in_([d.id for d in claimed]))
            .values(next_us=to_us(now + lease))
        )
    return claimed


def _delivery(row: Any) -> Delivery:
    return Delivery(
        id=row["id"],
        project_id=row["project_id"],
        key=row["key"],
        trigger=row["trigger"],
        threshold=row["threshold"],
        anchor_id=row["anchor_id"],
        kind=row["kind"],
        message=_decode_message(row["message"]) if row["message"] is not None else None,
        status=row["status"],
        attempts=row["attempts"],
        created=from_us(row["created_us"]),
        next_attempt=from_us(row["next_us"]),
        last_error=row["last_error"],
    )


def _person_actions(conn: Connection, project_id: str, distinct_id: str) -> PersonActions | None:
    person = find_person(conn, project_id, distinct_id)
    if person is None:
        return None
    ids = person.distinct_ids
    firing_rows = conn.execute(
        select(trigger_firings)
        .where(trigger_firings.c.project_id == project_id, trigger_firings.c.anchor_id.in_(ids))
        .order_by(trigger_firings.c.fired_us)
    ).all()
    sent = conn.execute(
        select(deliveries)
        .where(deliveries.c.project_id == project_id, deliveries.c.anchor_id.in_(ids))
        .order_by(deliveries.c.id)
    ).all()
    lines = conn.execute(
        select(sink_records.c.sink, sink_records.c.uuid, sink_records.c.status)
        .where(sink_records.c.project_id == project_id, sink_records.c.distinct_id.in_(ids))
        .order_by(sink_records.c.id)
    )
    by_firing: dict[tuple[str, int, str], list[Delivery]] = {}
    for row in sent:
        d = _delivery(row._mapping)
        by_firing.setdefault((d.trigger, d.threshold, d.anchor_id), []).append(d)
    firings = [
        Firing(
            trigger=f["trigger"],
            threshold=f["threshold"],
            anchor_id=f["anchor_id"],
            event_uuid=f["event_uuid"],
            count=f["count"],
            fired_at=from_us(f["fired_us"]),
            deliveries=tuple(by_firing.get((f["trigger"], f["threshold"], f["anchor_id"]), ())),
        )
        for f in (row._mapping for row in firing_rows)
    ]
    sinks = tuple(SinkStatus(sink=r[0], uuid=r[1], status=r[2]) for r in lines)
    return PersonActions(person_key=person.key, firings=tuple(firings), sink_records=sinks)


def _written_through(conn: Connection, path: str, uuid: str) -> int:
    last = conn.execute(
        select(sink_records.c.id).where(
            sink_records.c.path == path,
            sink_records.c.uuid == uuid,
            sink_records.c.status == PENDING,
        )
    ).scalar()
    if last is None:
        return 0
    stmt = (
        update(sink_records)
        .where(
            and_(
                sink_records.c.path == path,
                sink_records.c.status == PENDING,
                sink_records.c.id <= last,
            )
        )
        .values(status=WRITTEN)
    )
    return int(conn.execute(stmt).rowcount)
