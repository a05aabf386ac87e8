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

# --- Derived state (rebuilt from raw_events by `usertrail replay`) -------------------------

events = Table(
    "events",
    metadata,
    Column("project_id", String(64), primary_key=True),
    Column("uuid", String(36), primary_key=True),
    Column("distinct_id", Text, nullable=False),
    Column("ts_us", BigInteger, nullable=False),
    Column("name", Text, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("session_id", Text),
    Column("feature", Text),
    Column("data", LargeBinary, nullable=False),  # the normalized Event, msgspec JSON
)
Index("ix_events_person_time", events.c.project_id, events.c.distinct_id, events.c.ts_us)

# Every distinct id seen, and the person it belongs to (recomputed per identity component).
persons = Table(
    "persons",
    metadata,
    Column("project_id", String(64), primary_key=True),
    Column("distinct_id", Text, primary_key=True),
    Column("person_key", Text, nullable=False),
    Column("first_us", BigInteger, nullable=False),
    Column("last_us", BigInteger, nullable=False),
)
Index("ix_persons_key", persons.c.project_id, persons.c.person_key)

identity_edges = Table(
    "identity_edges",
    metadata,
    Column("project_id", String(64), primary_key=True),
    Column("uuid", String(36), primary_key=True),
    Column("ts_us", BigInteger, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("distinct_id", Text, nullable=False),
    Column("other_id", Text, nullable=False),
)
Index("ix_edges_distinct", identity_edges.c.project_id, identity_edges.c.distinct_id)
Index("ix_edges_other", identity_edges.c.project_id, identity_edges.c.other_id)

# $set / $set_once / $unset, one row per event: person properties are a pure function of them.
person_updates = Table(
    "person_updates",
    metadata,
    Column("project_id", String(64), primary_key=True),
    Column("uuid", String(36), primary_key=True),
    Column("distinct_id", Text, nullable=False),
    Column("data", LargeBinary, nullable=False),
)
Index("ix_person_updates_distinct", person_updates.c.project_id, person_updates.c.distinct_id)

cursors = Table(
    "cursors",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("seq", BigInteger, nullable=False),
)

# Per-person counters (core.aggregates): incremented once per newly stored event.
counters = Table(
    "counters",
    metadata,
    Column("project_id", String(64), primary_key=True),
    Column("distinct_id", Text, primary_key=True),
    Column("key", Text, primary_key=True),
    Column("count", BigInteger, nullable=False),
    Column("first_us", BigInteger, nullable=False),
    Column("last_us", BigInteger, nullable=False),
)

# Members of per-person distinct-count sets (core.aggregates.set_members), e.g. the sessions in
# which Billing was viewed; read back as COUNT(DISTINCT member) over a person's ids.
counter_members = Table(
    "counter_members",
    metadata,
    Column("project_id", String(64), primary_key=True),
    Column("distinct_id", Text, primary_key=True),
    Column("set_key", Text, primary_key=True),
    Column("member", Text, primary_key=True),
)
