"""Who a distinct id is: the person it belongs to, and that person's property updates."""

from __future__ import annotations

import msgspec
from sqlalchemy import Connection, select

from usertrail.adapters.sql.eventlog import from_us
from usertrail.adapters.sql.tables import person_updates, persons
from usertrail.model.identity import PersonUpdate
from usertrail.model.person import PersonRef

_decode_update = msgspec.json.Decoder(PersonUpdate).decode


def find_person(conn: Connection, project_id: str, distinct_id: str) -> PersonRef | None:
    key = conn.execute(
        select(persons.c.person_key).where(
            persons.c.project_id == project_id, persons.c.distinct_id == distinct_id
        )
    ).scalar()
    if key is None:
        return None
    rows = conn.execute(
        select(persons.c.distinct_id, persons.c.first_us, persons.c.last_us)
        .where(
            persons.c.project_id == project_id,
            persons.c.person_key == key,
        )
        .order_by(persons.c.first_us, persons.c.distinct_id)
    ).all()
    return PersonRef(
        project_id=project_id,
        key=key,
        distinct_ids=tuple(r[0] for r in rows),
        first_seen=from_us(min(r[1] for r in rows)),
        last_seen=from_us(max(r[2] for r in rows)),
    )


def updates_of(conn: Connection, person: PersonRef) -> list[PersonUpdate]:
    query = select(person_updates.c.data).where(
        person_updates.c.project_id == person.project_id,
        person_updates.c.distinct_id.in_(person.distinct_ids),
    )
    return [_decode_update(row[0]) for row in conn.execute(query)]
