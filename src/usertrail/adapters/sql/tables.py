"""Tables, shared by SQLite and PostgreSQL. Times are integer microseconds since the epoch:
portable, compact and cheap to compare."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

# SQLite only aliases INTEGER PRIMARY KEY to the rowid; BIGINT would break autoincrement.
SeqType = BigInteger().with_variant(Integer(), "sqlite")

projects = Table(
    "projects",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("token", String(200), nullable=False, unique=True),
    Column("api_key", String(200), nullable=False, unique=True),
    Column("webhook_secret", String(200), nullable=False),
    Column("created_us", BigInteger, nullable=False),
)

raw_events = Table(
    "raw_events",
    metadata,
    Column("seq", SeqType, primary_key=True, autoincrement=True),
    Column("project_id", String(64), nullable=False),
    Column("uuid", String(36), nullable=False),
    Column("event", Text, nullable=False),
    Column("distinct_id", Text, nullable=False),
    Column("ts_us", BigInteger, nullable=False),
    Column("received_us", BigInteger, nullable=False),
    Column("source", String(16), nullable=False),
    Column("ip", String(64)),
    Column("body", LargeBinary, nullable=False),  # the event as received, canonical JSON
    UniqueConstraint("project_id", "uuid", name="uq_raw_events_project_uuid"),
)
Index("ix_raw_events_project_distinct", raw_events.c.project_id, raw_events.c.distinct_id)
