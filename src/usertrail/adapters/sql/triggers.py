"""Trigger hits and firings, inside the transaction that stores a processed slice.

Runs after identity is recomputed, so it reads the merged person: a count is the number of
distinct hit uuids over the person's ids, and the thresholds already fired are those on any
of them; core.settle decides what fires. Recording the firing and its outbox rows in the same
transaction as the cursor makes it exactly once, whatever is retried or replayed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import Connection, func, select

from usertrail.adapters.sql.dialect import insert_for
from usertrail.adapters.sql.eventlog import to_us
from usertrail.adapters.sql.persons import find_person, updates_of
from usertrail.adapters.sql.tables import deliveries, sink_records, trigger_firings, trigger_hits
from usertrail.core.identity import apply_person_updates
from usertrail.core.settle import Checked, due, firings, latest_per_person
from usertrail.core.triggers import TriggerCheck, TriggerHit
from usertrail.model.actions import DEAD, PENDING, NewFiring, SinkRecord
from usertrail.model.person import PersonRef

_encode = msgspec.json.Encoder().encode


def apply_triggers(
    conn: Connection, checks: Iterable[TriggerCheck], now: datetime
) -> list[NewFiring]:
    """Fire what is due for every person the checks touch, as stored now (core.settle)."""
    persons: dict[tuple[str, str], PersonRef | None] = {}
    pairs = [(check, _person(conn, persons, check)) for check in checks]
    checked = [_checked(conn, check, person) for check, person in latest_per_person(pairs)]
    due_with = [(d, _properties(conn, d.checked.person)) for d in due(checked)]
    fired = firings(due_with, now)
    for item in fired:
        _record(conn, item.firing, item.count)
    return [item.firing for item in fired]


def insert_sink_records(conn: Connection, records: Iterable[SinkRecord], now: datetime) -> None:
    created = to_us(now)
    rows = [
        {
            "project_id": r.project_id,
            "sink": r.sink,
            "uuid": r.uuid,
            "distinct_id": r.distinct_id,
            "path": r.path,
            "line": r.line,
            "status": PENDING if r.line is not None else "dropped",
            "created_us": created,
        }
        for r in records
    ]
    if rows:
        conn.execute(insert_for(conn, sink_records).on_conflict_do_nothing(), rows)


def insert_hits(conn: Connection, hits: Iterable[TriggerHit]) -> None:
    rows = [
        {
            "project_id": h.project_id,
            "trigger": h.trigger,
            "uuid": h.uuid,
            "distinct_id": h.distinct_id,
            "ts_us": to_us(h.timestamp),
        }
        for h in hits
    ]
    if rows:  # a hit already stored (a duplicate event) changes no count
        conn.execute(insert_for(conn, trigger_hits).on_conflict_do_nothing(), rows)


def _person(
    conn: Connection, cache: dict[tuple[str, str], PersonRef | None], check: TriggerCheck
) -> PersonRef | None:
    key = (check.project_id, check.distinct_id)
    if key not in cache:
        cache[key] = find_person(conn, *key)
    return cache[key]


def _checked(conn: Connection, check: TriggerCheck, person: PersonRef) -> Checked:
    return Checked(
        check=check,
        person=person,
        count=_count(conn, check, person),
        fired=frozenset(_fired(conn, check, person)),
    )


def _properties(conn: Connection, person: PersonRef) -> dict[str, Any]:
    return apply_person_updates(updates_of(conn, person))


def _count(conn: Connection, check: TriggerCheck, person: PersonRef) -> int:
    hits = trigger_hits.c
    query = select(func.count()).where(
        hits.project_id == check.project_id,
        hits.trigger == check.trigger,
        hits.distinct_id.in_(person.distinct_ids),
    )
    if window := check.spec.window_minutes:
        since = check.timestamp - timedelta(minutes=window)
        query = query.where(hits.ts_us > to_us(since), hits.ts_us <= to_us(check.timestamp))
    return int(conn.execute(query).scalar_one())


def _fired(conn: Connection, check: TriggerCheck, person: PersonRef) -> set[int]:
    firings = trigger_firings.c
    query = select(firings.threshold).where(
        firings.project_id == check.project_id,
        firings.trigger == check.trigger,
        firings.anchor_id.in_(person.distinct_ids),
    )
    return {int(row[0]) for row in conn.execute(query)}


def _record(conn: Connection, firing: NewFiring, count: int) -> None:
    fired_us = to_us(firing.fired_at)
    conn.execute(
        insert_for(conn, trigger_firings).values(
            project_id=firing.project_id,
            trigger=firing.trigger,
            threshold=firing.threshold,
            anchor_id=firing.anchor_id,
            event_uuid=firing.event_uuid,
            count=count,
            fired_us=fired_us,
        )
    )
    rows = [
        {
            "project_id": firing.project_id,
            "key": firing.key(index),
            "trigger": firing.trigger,
            "threshold": firing.threshold,
            "anchor_id": firing.anchor_id,
            "kind": action.kind,
            "message": _encode(action.message) if action.message is not None else None,
            "status": PENDING if action.error is None else DEAD,
            "attempts": 0,
            "created_us": fired_us,
            "next_us": fired_us,
            "last_error": action.error,
        }
        for index, action in enumerate(firing.actions)
    ]
    conn.execute(insert_for(conn, deliveries).on_conflict_do_nothing(), rows)
