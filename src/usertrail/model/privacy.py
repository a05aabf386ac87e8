"""Privacy requests: what an erasure removed, and what an export holds."""

from __future__ import annotations

from datetime import datetime

import msgspec

from usertrail.model.counter import Counter
from usertrail.model.group import GroupState
from usertrail.model.identity import MergeEdge, PersonUpdate
from usertrail.model.person import PersonRef

# A sink line that must leave its file: the row stays, emptied, until the file is rewritten.
PURGE = "purge"


class Erasure(msgspec.Struct, frozen=True, kw_only=True):
    """One person erased, in one transaction: rows removed per kind, and sink lines queued
    for removal from their files."""

    person_key: str
    distinct_ids: tuple[str, ...]
    deleted: dict[str, int]  # what -> how many rows
    sink_uuids: tuple[str, ...]  # events whose lines leave the sink files
    erased_at: datetime


class ErasureReport(msgspec.Struct, frozen=True, kw_only=True):
    """The answer to DELETE /persons/{id}."""

    person: str
    distinct_ids: tuple[str, ...]
    deleted: dict[str, int]
    # "purged": every sink file was rewritten without the person's lines before answering;
    # "pending": the worker that owns the files has not done it yet (it will).
    sink_files: str
    erased_at: datetime


class SinkLine(msgspec.Struct, frozen=True, kw_only=True):
    sink: str
    uuid: str
    status: str  # pending | written | dropped
    path: str
    line: msgspec.Raw | None  # the JSON object as written (None: redaction failed, dropped)


class PersonCounter(msgspec.Struct, frozen=True, kw_only=True):
    distinct_id: str
    key: str
    counter: Counter


class SetMember(msgspec.Struct, frozen=True, kw_only=True):
    distinct_id: str
    set: str
    member: str


class PersonRecords(msgspec.Struct, frozen=True, kw_only=True):
    """Everything stored about a person except their events (those are paged)."""

    person: PersonRef
    updates: tuple[PersonUpdate, ...]
    edges: tuple[MergeEdge, ...]
    counters: tuple[PersonCounter, ...]
    sets: tuple[SetMember, ...]
    sink_lines: tuple[SinkLine, ...]
    groups: tuple[GroupState, ...] = ()  # the accounts the person acted in


class RawExport(msgspec.Struct, frozen=True, kw_only=True):
    """One raw event as stored: the body exactly as ingest received it."""

    uuid: str
    event: str
    distinct_id: str
    timestamp: datetime
    received_at: datetime
    source: str
    ip: str | None
    body: msgspec.Raw
