"""The raw event log on SQL: append with dedupe on (project, uuid), read in log order."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, and_, func, select
from sqlalchemy.exc import OperationalError

from usertrail.adapters.sql.admission import PendingGate
from usertrail.adapters.sql.dialect import RAW_COLUMNS, insert_raw_rows, lock_raw_log
from usertrail.adapters.sql.key_chunks import KEYS_PER_STATEMENT, project_chunks
from usertrail.adapters.sql.tables import events, raw_events
from usertrail.adapters.sql.writer import GroupCommitWriter
from usertrail.core.envelope import encode_body
from usertrail.deadlines import FutureDeadlines
from usertrail.errors import StorageUnavailable
from usertrail.model.raw import LoggedEvent, RawEvent
from usertrail.ports import AppendResult


def to_us(ts: datetime) -> int:
    """Aware datetime -> integer microseconds since the epoch (exact, no float rounding)."""
    delta = ts - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def raw_row(e: RawEvent) -> tuple[Any, ...]:
    """A raw event as its row's values, in RAW_COLUMNS order."""
    return (
        e.project_id,
        e.uuid,
        e.event,
        e.distinct_id,
        to_us(e.timestamp),
        to_us(e.received_at),
        e.source,
        e.ip,
        encode_body(e.body),
    )


_SQLITE_INSERT = (
    f"INSERT INTO {raw_events.name} ({', '.join(RAW_COLUMNS)})"
    f" VALUES ({', '.join('?' for _ in RAW_COLUMNS)})"
    " ON CONFLICT (project_id, uuid) DO NOTHING"
)


def insert_raw(conn: Connection, rows: list[tuple[Any, ...]], *, ordered: bool = True) -> int:
    """Insert rows, skipping (project, uuid) already present; returns how many were new.
    `ordered`: on PostgreSQL, commit them in seq order with every other process's appends
    (dialect.lock_raw_log); SqlEventLog says when that is not needed."""
    if not rows:
        return 0
    if conn.dialect.name == "postgresql":
        if ordered:
            lock_raw_log(conn)
        return len(insert_raw_rows(conn, rows))
    # The driver's own executemany, whose rowcount is the rows inserted: SQLAlchemy's
    # INSERT ... RETURNING cost the writer thread more GIL time than SQLite's work did,
    # and that GIL is the one the event loop answers requests with. (One multi-row VALUES
    # statement for a whole commit group was tried: no gain under wrk, interleaved A/B.)
    # (sqlite3's own executemany: a cursor made and dropped in C, not by SQLAlchemy and
    # contextlib in Python, once per request in a group.)
    driver: sqlite3.Connection = conn.connection.driver_connection  # type: ignore[assignment]
    try:
        return int(driver.executemany(_SQLITE_INSERT, rows).rowcount)
    except sqlite3.OperationalError as exc:  # as SQLAlchemy raises it (append maps it)
        raise OperationalError(_SQLITE_INSERT, None, exc) from exc


class SqlEventLog:
    def __init__(
        self,
        writer: GroupCommitWriter,
        reader: Engine,
        timeout_s: float = 5.0,
        max_pending: int = 1024,
        *,
        ordered: bool = True,
    ) -> None:
        """`ordered`: appends on PostgreSQL commit in seq order across processes, which a
        reader following the log by seq needs (LogFeed, the embedded processor). Scale-out
        passes False: its workers read the bus, and the relay and the reconciler read the log
        behind a gap wait and a time cutoff, so the lock would only serialize its ingest
        processes' commits."""
        self._writer = writer
        self._ordered = ordered
        self._reader = reader
        self._timeout_s = timeout_s
        self._gate = PendingGate(max_pending)
        self._deadlines = FutureDeadlines(timeout_s)
        self._read_sql = _read_sql(reader.dialect.paramstyle)
        # PostgreSQL sends the slice in binary: the bodies as they are, not hex-escaped by
        # the server and unescaped by libpq (measured: the fetch of a slice took a third less).
        self._read_args = {"binary": True} if reader.dialect.name == "postgresql" else {}

    async def append(self, events: Sequence[RawEvent]) -> AppendResult:
        rows = [raw_row(e) for e in events]
        slot = self._gate.admit()  # Overloaded at once when too many wait already
        # The slot is held until the writer has settled the job, not until this request
        # gives up waiting: a timed-out append still sits in the writer's queue.
        job = self._writer.enqueue(
            lambda conn: insert_raw(conn, rows, ordered=self._ordered),
            weight=len(rows),
            on_settled=slot.release,
        )
        self._deadlines.watch(job)
        try:
            inserted = await job
        except OperationalError as exc:  # locked, disk full, I/O error: nothing was stored
            raise StorageUnavailable(f"event log unavailable: {exc.orig}") from exc
        except TimeoutError as exc:
            # The rows may still commit later; the client's retry is deduplicated by uuid.
            detail = f"event log did not commit within {self._timeout_s} s"
            raise StorageUnavailable(detail) from exc
        return AppendResult(accepted=inserted, duplicates=len(rows) - inserted)

    async def read_after(self, seq: int, limit: int) -> list[LoggedEvent]:
        return await asyncio.to_thread(self.read_after_sync, seq, limit)

    def read_after_sync(self, seq: int, limit: int) -> list[LoggedEvent]:
        # The processor's read, as the driver's plain tuples: SQLAlchemy's Row and mapping
        # objects were a twentieth of the processor's GIL time.
        with self._reader.connect() as conn, closing(conn.connection.cursor()) as cursor:
            cursor.execute(self._read_sql, (seq, limit), **self._read_args)
            rows = cursor.fetchall()
        return [_logged(*row) for row in rows]

    async def as_logged(self, events: Sequence[RawEvent]) -> list[RawEvent]:
        """Each event as the log holds it (ports.EventLog): the copy stored first under its
        (project, uuid); one the log no longer holds (erased since) as given. Read after the
        append committed, so a concurrent attempt's row, which the insert waited for, is in."""
        return await asyncio.to_thread(self._as_logged, events)

    def _as_logged(self, events: Sequence[RawEvent]) -> list[RawEvent]:
        wanted = {(e.project_id, e.uuid) for e in events}
        with self._reader.connect() as conn:
            logged = {
                (raw.project_id, raw.uuid): raw
                for project_id, uuids in project_chunks(wanted, KEYS_PER_STATEMENT)
                for raw in _stored_copies(conn, project_id, uuids)
            }
        return [logged.get((e.project_id, e.uuid), e) for e in events]

    async def unprocessed_after(
        self, seq: int, received_before: datetime, limit: int
    ) -> tuple[list[LoggedEvent], int]:
        return await asyncio.to_thread(self._unprocessed_after, seq, to_us(received_before), limit)

    def _unprocessed_after(
        self, seq: int, before_us: int, limit: int
    ) -> tuple[list[LoggedEvent], int]:
        window = (
            select(raw_events)
            .where(raw_events.c.seq > seq)
            .order_by(raw_events.c.seq)
            .limit(limit)
            .subquery()
        )
        done = and_(events.c.project_id == window.c.project_id, events.c.uuid == window.c.uuid)
        query = (
            select(window, events.c.uuid.is_(None).label("missing"))
            .select_from(window.outerjoin(events, done))
            .order_by(window.c.seq)
        )
        missing, last = [], seq
        with self._reader.connect() as conn:
            for row in conn.execute(query):
                if row.received_us >= before_us:
                    break  # too recent: a worker may simply not have got to it yet
                last = row.seq
                if row.missing:
                    missing.append(logged_event(row._mapping))
        return missing, last

    async def count(self, project_id: str) -> int:
        query = (
            select(func.count())
            .select_from(raw_events)
            .where(raw_events.c.project_id == project_id)
        )

        def run() -> int:
            with self._reader.connect() as conn:
                return int(conn.execute(query).scalar_one())

        return await asyncio.to_thread(run)


_READ_COLUMNS = ("seq", *RAW_COLUMNS)


def _stored_copies(conn: Connection, project_id: str, uuids: list[str]) -> list[RawEvent]:
    query = select(raw_events).where(
        raw_events.c.project_id == project_id, raw_events.c.uuid.in_(uuids)
    )
    return [logged_event(row._mapping).raw for row in conn.execute(query)]


def _read_sql(paramstyle: str) -> str:
    mark = "?" if paramstyle == "qmark" else "%s"
    columns = ", ".join(_READ_COLUMNS)
    return f"SELECT {columns} FROM {raw_events.name} WHERE seq > {mark} ORDER BY seq LIMIT {mark}"


def logged_event(row: Any) -> LoggedEvent:
    """A raw-log row as a mapping (SQLAlchemy's `row._mapping`)."""
    return _logged(*(row[name] for name in _READ_COLUMNS))


def _logged(
    seq: int,
    project_id: str,
    uuid: str,
    event: str,
    distinct_id: str,
    ts_us: int,
    received_us: int,
    source: str,
    ip: str | None,
    body: bytes,
) -> LoggedEvent:
    """A raw-log row, its values in _READ_COLUMNS order."""
    return LoggedEvent(
        seq=seq,
        raw=RawEvent(
            project_id=project_id,
            uuid=uuid,
            event=event,
            distinct_id=distinct_id,
            timestamp=from_us(ts_us),
            received_at=from_us(received_us),
            source=source,
            ip=ip,
            body=orjson.loads(body),
        ),
    )
