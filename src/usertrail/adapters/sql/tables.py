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
    # A deleted row's seq is never handed out again: it may be at or below a processor cursor.
    sqlite_autoincrement=True,
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
# Retention prunes by event time across all persons.
Index("ix_events_time", events.c.ts_us)

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

# `$groupidentify`'s `$group_set`, one row per event: group properties fold from them.
group_updates = Table(
    "group_updates",
    metadata,
    Column("project_id", String(64), primary_key=True),
    Column("uuid", String(36), primary_key=True),
    Column("group_type", Text, nullable=False),
    Column("group_key", Text, nullable=False),
    Column("distinct_id", Text, nullable=False),  # the sender: erased with them
    Column("data", LargeBinary, nullable=False),  # the GroupUpdate, msgspec JSON
)
Index(
    "ix_group_updates_group",
    group_updates.c.project_id,
    group_updates.c.group_type,
    group_updates.c.group_key,
)

# Who did something in which group (`$groups` on their events), first and last time.
group_members = Table(
    "group_members",
    metadata,
    Column("project_id", String(64), primary_key=True),
    Column("group_type", Text, primary_key=True),
    Column("group_key", Text, primary_key=True),
    Column("distinct_id", Text, primary_key=True),
    Column("first_us", BigInteger, nullable=False),
    Column("last_us", BigInteger, nullable=False),
)
Index("ix_group_members_distinct", group_members.c.project_id, group_members.c.distinct_id)

cursors = Table(
    "cursors",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("seq", BigInteger, nullable=False),
)

# Raw events the embedded processor could not store even alone (a bug, a value the store
# refuses): listed here for a human, passed by the cursor so later events are processed.
# Not derived state: a replay keeps the rows and tries the events again.
dead_events = Table(
    "dead_events",
    metadata,
    Column("project_id", String(64), primary_key=True),
    Column("uuid", String(36), primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("error", Text, nullable=False),  # the exception's type and a bounded message
    Column("failed_us", BigInteger, nullable=False),
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

# --- Triggers and sinks ---------------------------------------------------------------------

# Events that count toward a trigger, one row per (trigger, event uuid): counts are exact.
# Derived (rebuilt by replay); the firings below are not, so a replay never fires again.
trigger_hits = Table(
    "trigger_hits",
    metadata,
    Column("project_id", String(64), primary_key=True),
    Column("trigger", String(200), primary_key=True),
    Column("uuid", String(36), primary_key=True),
    Column("distinct_id", Text, nullable=False),
    Column("ts_us", BigInteger, nullable=False),
)
Index("ix_trigger_hits_person", trigger_hits.c.project_id, trigger_hits.c.distinct_id)

# One row per (trigger, threshold, person): the primary key is what makes a firing happen once.
trigger_firings = Table(
    "trigger_firings",
    metadata,
    Column("project_id", String(64), primary_key=True),
    Column("trigger", String(200), primary_key=True),
    Column("threshold", Integer, primary_key=True),
    Column("anchor_id", Text, primary_key=True),  # the person key when it fired
    Column("event_uuid", String(36), nullable=False),
    Column("count", Integer, nullable=False),
    Column("fired_us", BigInteger, nullable=False),
)

# The outbox: one row per action of a firing, written in the firing's transaction.
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", SeqType, primary_key=True, autoincrement=True),
    Column("project_id", String(64), nullable=False),
    Column("key", Text, nullable=False, unique=True),  # idempotency key sent to the receiver
    Column("trigger", String(200), nullable=False),
    Column("threshold", Integer, nullable=False),
    Column("anchor_id", Text, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("message", LargeBinary),  # msgspec JSON of the Message; NULL if it failed to render
    Column("status", String(16), nullable=False),  # pending | delivered | dead
    Column("attempts", Integer, nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("next_us", BigInteger, nullable=False),  # due time, or lease end while sending
    Column("last_error", Text),
)
Index("ix_deliveries_due", deliveries.c.status, deliveries.c.next_us)
Index("ix_deliveries_firing", deliveries.c.project_id, deliveries.c.anchor_id)

# Lines bound for sink files, written by the sink writer in id order.
sink_records = Table(
    "sink_records",
    metadata,
    Column("id", SeqType, primary_key=True, autoincrement=True),
    Column("project_id", String(64), nullable=False),
    Column("sink", String(200), nullable=False),
    Column("uuid", String(36), nullable=False),
    Column("distinct_id", Text, nullable=False),
    Column("path", Text, nullable=False),
    Column("line", LargeBinary),  # NULL when redaction failed: dropped, never written
    Column("status", String(16), nullable=False),  # pending | written | dropped
    Column("created_us", BigInteger, nullable=False),
    UniqueConstraint("project_id", "sink", "uuid", name="uq_sink_records_event"),
)
Index("ix_sink_records_status", sink_records.c.status, sink_records.c.id)
Index("ix_sink_records_person", sink_records.c.project_id, sink_records.c.distinct_id)

# --- Privacy ---------------------------------------------------------------------------------

# Distinct ids erased by DELETE /persons/{id}, as SHA-256 of (project, id): a late event for
# one is recognised without keeping the id itself. Not derived: replay keeps it.
deleted_ids = Table(
    "deleted_ids",
    metadata,
    Column("project_id", String(64), primary_key=True),
    Column("id_hash", String(64), primary_key=True),
    Column("deleted_us", BigInteger, nullable=False),
)

# --- PostHog relay and import (not derived: replay keeps them) ------------------------------

# How far the relay has sent the raw log to PostHog (services.relay), by name.
relay_cursors = Table(
    "relay_cursors",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("seq", BigInteger, nullable=False),
)

# Events PostHog refused for good (a 4xx that no retry passes), with its answer.
relay_dead_letters = Table(
    "relay_dead_letters",
    metadata,
    Column("project_id", String(64), primary_key=True),
    Column("uuid", String(36), primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("reason", Text, nullable=False),
    Column("dead_us", BigInteger, nullable=False),
)

# Where `usertrail import posthog` resumes: the last (timestamp, uuid) it stored, by source.
import_cursors = Table(
    "import_cursors",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
)
