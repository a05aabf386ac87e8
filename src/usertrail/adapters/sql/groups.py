"""Groups on SQL: a person's accounts, and one account with its members and their activity."""

from __future__ import annotations

from collections.abc import Iterable

import msgspec
from sqlalchemy import Connection, and_, bindparam, func, or_, select

from usertrail.adapters.sql.eventlog import from_us
from usertrail.adapters.sql.persons import events_of_ids
from usertrail.adapters.sql.tables import (
    counter_members,
    counters,
    group_members,
    group_updates,
    persons,
)
from usertrail.model.counter import Counter
from usertrail.model.group import GroupData, GroupMember, GroupState, GroupUpdate
from usertrail.model.person import PersonRef

_decode_update = msgspec.json.Decoder(GroupUpdate).decode
MAX_PERSON_GROUPS = 20
MAX_COUNTED_IDS = 2_000  # counters are summed over at most this many member ids
EVENT_MEMBERS = 20  # recent events come from this many most recently active members
GroupKey = tuple[str, str]


# Built once: a context read runs it for every person, and building the statement cost more
# than running it (SQLite, a person in no account: 0.2 ms built each time).
_m = group_members.c
_PERSON_GROUPS = select(_m.group_type, _m.group_key, _m.first_us, _m.last_us).where(
    _m.project_id == bindparam("project"), _m.distinct_id.in_(bindparam("ids", expanding=True))
)


def person_groups(conn: Connection, person: PersonRef) -> list[GroupState]:
    """The groups any of the person's ids acted in, most recently active first."""
    params = {"project": person.project_id, "ids": list(person.distinct_ids)}
    spans: dict[GroupKey, tuple[int, int]] = {}
    for row in conn.execute(_PERSON_GROUPS, params):
        group, first, last = (str(row[0]), str(row[1])), int(row[2]), int(row[3])
        old = spans.get(group)
        spans[group] = (min(old[0], first), max(old[1], last)) if old else (first, last)
    if not spans:
        return []
    latest = sorted(spans, key=lambda g: (-spans[g][1], g))[:MAX_PERSON_GROUPS]
    updates = updates_of(conn, person.project_id, latest)
    return [
        GroupState(
            group_type=g[0],
            group_key=g[1],
            updates=tuple(updates.get(g, ())),
            first_seen=from_us(spans[g][0]),
            last_seen=from_us(spans[g][1]),
        )
        for g in latest
    ]


def updates_of(
    conn: Connection, project_id: str, groups: Iterable[GroupKey]
) -> dict[GroupKey, list[GroupUpdate]]:
    wanted = list(groups)
    if not wanted:
        return {}
    u = group_updates.c
    match = or_(*(and_(u.group_type == t, u.group_key == k) for t, k in wanted))
    query = select(u.data).where(u.project_id == project_id, match)
    found: dict[GroupKey, list[GroupUpdate]] = {}
    for row in conn.execute(query):
        update = _decode_update(row[0])
        found.setdefault((update.group_type, update.group_key), []).append(update)
    return found


def group_data(
    conn: Connection,
    project_id: str,
    group: GroupKey,
    *,
    member_limit: int,
    event_limit: int,
) -> GroupData | None:
    """None when nothing is known of the group (no update and no member)."""
    members, count, ids = _members(conn, project_id, group, member_limit)
    updates = updates_of(conn, project_id, [group]).get(group, [])
    if not members and not updates:
        return None
    spans = [(m.first_seen, m.last_seen) for m in members]
    state = GroupState(
        group_type=group[0],
        group_key=group[1],
        updates=tuple(updates),
        first_seen=min((s[0] for s in spans), default=None),
        last_seen=max((s[1] for s in spans), default=None),
    )
    # One indexed scan per id: the most recently active members are what "recent" shows.
    shown_ids = [i for m in members[:EVENT_MEMBERS] for i in m.distinct_ids]
    return GroupData(
        project_id=project_id,
        group=state,
        members=tuple(members),
        member_count=count,
        events=tuple(events_of_ids(conn, project_id, shown_ids, event_limit)),
        counters=tuple(_counters(conn, project_id, ids).items()),
        set_sizes=tuple(_set_sizes(conn, project_id, ids)),
    )


def _members(
    conn: Connection, project_id: str, group: GroupKey, limit: int
) -> tuple[list[GroupMember], int, list[str]]:
    """Members as persons (ids merged by person key), most recently active first; also how
    many persons there are, and the ids of up to MAX_COUNTED_IDS of them."""
    m, p = group_members.c, persons.c
    rows = conn.execute(
        select(p.person_key, m.distinct_id, m.first_us, m.last_us)
        .join_from(
            group_members,
            persons,
            and_(p.project_id == m.project_id, p.distinct_id == m.distinct_id),
        )
        .where(m.project_id == project_id, m.group_type == group[0], m.group_key == group[1])
        .order_by(m.last_us.desc(), m.distinct_id)
        .limit(MAX_COUNTED_IDS)
    ).all()
    by_key: dict[str, GroupMember] = {}
    for row in rows:  # newest first: a person's first row holds their last activity
        key, distinct_id, first = str(row[0]), str(row[1]), from_us(int(row[2]))
        old = by_key.get(key)
        by_key[key] = GroupMember(
            key=key,
            distinct_ids=(*old.distinct_ids, distinct_id) if old else (distinct_id,),
            first_seen=min(old.first_seen, first) if old else first,
            last_seen=old.last_seen if old else from_us(int(row[3])),
        )
    members = sorted(by_key.values(), key=lambda x: (x.last_seen, x.key), reverse=True)
    return members[:limit], len(members), [str(r[1]) for r in rows]


def _counters(conn: Connection, project_id: str, ids: list[str]) -> dict[str, Counter]:
    """Summed in SQL: an account's members can be many."""
    if not ids:
        return {}
    c = counters.c
    query = select(c.key, func.sum(c.count), func.min(c.first_us), func.max(c.last_us)).where(
        c.project_id == project_id, c.distinct_id.in_(ids)
    )
    rows = conn.execute(query.group_by(c.key)).all()
    return {
        str(r[0]): Counter(count=int(r[1]), first=from_us(r[2]), last=from_us(r[3])) for r in rows
    }


def _set_sizes(conn: Connection, project_id: str, ids: list[str]) -> list[tuple[str, int]]:
    if not ids:
        return []
    s = counter_members.c
    query = (
        select(s.set_key, func.count(func.distinct(s.member)))
        .where(s.project_id == project_id, s.distinct_id.in_(ids))
        .group_by(s.set_key)
    )
    return [(r[0], int(r[1])) for r in conn.execute(query)]
