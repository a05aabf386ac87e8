"""Trigger counting and firing, inside the transaction that stores a processed slice.

Runs after identity is recomputed, so counts and firings see the merged person. A count is
the number of distinct hit uuids over the person's ids; a threshold fires if no firing for it
exists on any of those ids. Recording the firing and its outbox rows in the same transaction
as the cursor makes it exactly once, whatever is retried or replayed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import msgspec
from sqlalchemy import Connection, func, select

from usertrail.adapters.sql.dialect import insert_for
from usertrail.adapters.sql.eventlog import to_us
from usertrail.adapters.sql.persons import find_person, updates_of
from usertrail.adapters.sql.tables import deliveries, sink_records, trigger_firings, trigger_hits
from usertrail.core.identity import apply_person_updates
from usertrail.core.process import Derived
from usertrail.core.triggers import (
    FiringContext,
    TriggerCheck,
    TriggerHit,
    due_thresholds,
    fire,
    where_matches,
)
from usertrail.model.actions import DEAD, PENDING, NewFiring
from usertrail.model.person import PersonRef

_encode = msgspec.json.Encoder().encode


def apply_triggers(conn: Connection, derived: Derived) -> list[NewFiring]:
    """Count the slice's hits, then fire what is due for every person it touched."""
    _insert_hits(conn, derived.trigger_hits)
    now = datetime.now(UTC)
    fired = []
    for check in _latest_per_person(conn, derived.trigger_checks):
        fired.extend(_fire_due(conn, check, now))
    return fired


def insert_sink_records(conn: Connection, derived: Derived) -> None:
    created = to_us(datetime.now(UTC))
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
        for r in derived.sink_records
    ]
    if rows:
        conn.execute(insert_for(conn, sink_records).on_conflict_do_nothing(), rows)


def _insert_hits(conn: Connection, hits: Iterable[TriggerHit]) -> None:
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


def _latest_per_person(
    conn: Connection, checks: Iterable[TriggerCheck]
) -> list[tuple[TriggerCheck, PersonRef]]:
    """One check per (trigger, person): the slice's newest, so a window counts up to it."""
    latest: dict[tuple[str, str, str], tuple[TriggerCheck, PersonRef]] = {}
    for check in checks:
        person = find_person(conn, check.project_id, check.distinct_id)
        if person is None:
            continue
        key = (check.project_id, check.trigger, person.key)
        if key not in latest or check.timestamp >= latest[key][0].timestamp:
            latest[key] = (check, person)
    return list(latest.values())


def _fire_due(
    conn: Connection, item: tuple[TriggerCheck, PersonRef], now: datetime
) -> list[NewFiring]:
    check, person = item
    count = _count(conn, check, person)
    due = due_thresholds(check.spec, count, _fired(conn, check, person))
    if not due:
        return []
    properties = apply_person_updates(updates_of(conn, person))
    if not where_matches(check.spec.person, properties):
        return []  # checked again at the person's next matching event
    context = FiringContext(
        person_key=person.key,
        distinct_ids=person.distinct_ids,
        properties=properties,
        count=count,
    )
    firings = [fire(check, threshold, context, now) for threshold in due]
    for firing in firings:
        _record(conn, firing, count)
    return firings


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
