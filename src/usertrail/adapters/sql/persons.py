"""Who a distinct id is: the person it belongs to, and that person's property updates."""

from __future__ import annotations

from collections.abc import Iterable

import msgspec
from sqlalchemy import Connection, bindparam, select

from usertrail.adapters.sql.eventlog import from_us
from usertrail.adapters.sql.tables import events, person_updates, persons
from usertrail.core.posthog_events import STATE
from usertrail.model.event import Event
from usertrail.model.identity import PersonUpdate
from usertrail.model.person import PersonRef

_decode_update = msgspec.json.Decoder(PersonUpdate).decode
_decode_event = msgspec.json.Decoder(Event).decode


# The read path's statements are built once, here: building one (and its cache key) cost
# more than running it (SQLite: about 45 us a statement, 3 of them per context read).
_p = persons.c
_KEY = (
    select(_p.person_key)
    .where(_p.project_id == bindparam("project"), _p.distinct_id == bindparam("id"))
    .scalar_subquery()
)
# Every id of the person that `id` belongs to, in one statement (one snapshot).
_PERSON = (
    select(_p.person_key, _p.distinct_id, _p.first_us, _p.last_us)
    .where(_p.project_id == bindparam("project"), _p.person_key == _KEY)
    .order_by(_p.first_us, _p.distinct_id)
)
_UPDATES = select(person_updates.c.data).where(
    person_updates.c.project_id == bindparam("project"),
    person_updates.c.distinct_id.in_(bindparam("ids", expanding=True)),
)


def find_person(conn: Connection, project_id: str, distinct_id: str) -> PersonRef | None:
    rows = conn.execute(_PERSON, {"project": project_id, "id": distinct_id}).all()
    if not rows:
        return None
    return PersonRef(
        project_id=project_id,
        key=rows[0][0],
        distinct_ids=tuple(r[1] for r in rows),
        first_seen=from_us(min(r[2] for r in rows)),
        last_seen=from_us(max(r[3] for r in rows)),
    )


def updates_of(conn: Connection, person: PersonRef) -> list[PersonUpdate]:
    params = {"project": person.project_id, "ids": list(person.distinct_ids)}
    return [_decode_update(row[0]) for row in conn.execute(_UPDATES, params)]


# Built once (see adapters.sql.groups): it runs once per distinct id of every context read.
_RECENT = (
    select(events.c.ts_us, events.c.uuid, events.c.data)
    .where(
        events.c.project_id == bindparam("project"),
        events.c.distinct_id == bindparam("id"),
        events.c.kind != bindparam("state"),
    )
    .order_by(events.c.ts_us.desc())
    .limit(bindparam("limit"))
)


def events_of_ids(
    conn: Connection, project_id: str, distinct_ids: Iterable[str], limit: int
) -> list[Event]:
    """The newest `limit` activity events of these ids, oldest first.

    One query per distinct id, each a reverse range scan of (project, distinct_id, ts) that
    stops after `limit` rows: the cost does not grow with the person's history. (One query
    with `distinct_id IN (...)` would read and sort every event the person ever had.)
    Person and group updates are stored but are not activity (core.posthog_events).
    """
    rows: list[tuple[int, str, bytes]] = []
    for distinct_id in distinct_ids:
        params = {"project": project_id, "id": distinct_id, "state": STATE, "limit": limit}
        rows.extend((r[0], r[1], r[2]) for r in conn.execute(_RECENT, params).all())
    newest = sorted(rows, key=lambda r: (r[0], r[1]), reverse=True)[:limit]
    return [_decode_event(data) for _, _, data in reversed(newest)]
