"""Change notices as bytes: one encoding for `serve`'s local datagrams and Redis Pub/Sub.

A notice carries the processor's new events whole, so a serving process advances a cached
context with them instead of reading the database again (services.context_cache), and the
other changes' ids (merges, person updates, erasures: their contexts are dropped). Each notice
is at most `max_bytes`: a datagram or a Pub/Sub message of bounded size. Nothing is left out
silently: an event too large (EVENT_BYTES_MAX) or that msgpack cannot hold (an integer beyond
64 bits) goes as its id; an id too large for a notice, or one that cannot be encoded, makes
the notice say EVERYONE; a notice that cannot be read is taken as EVERYONE too.

Each event goes as bytes, beside its person's id: a reader decodes whole only the events it
`wants` (a serving process: those of persons its context cache holds, which a new event may
advance) and takes the others' ids as they are (all a live stream or the rest of the cache
needs), without walking through them. `$groupidentify` events are always decoded: they change
accounts cached under other ids.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import msgspec
import structlog

from usertrail.model.event import EVERYONE, Changed, Event, PersonId

log = structlog.get_logger("usertrail.notices")
EVENT_BYTES_MAX = 16 * 1024  # a larger new event goes as its id: its context is rebuilt
_OVERHEAD = 32  # a notice's array headers and flag, around its events and ids
_ITEM_OVERHEAD = 10  # an event's bytes header and its index among the `$groupidentify` ones


class _Sent(msgspec.Struct, array_like=True):
    events: list[bytes]  # each encoded once, to know its size; sent as bytes, to be skipped
    ids: list[msgspec.Raw]
    everyone: bool = False
    owners: list[msgspec.Raw] = []  # each event's PersonId, in the order of `events`
    groups: list[int] = []  # which events are `$groupidentify`


class _Notice(msgspec.Struct, array_like=True):
    events: list[bytes]
    ids: list[PersonId]
    everyone: bool = False
    owners: list[PersonId] = []
    groups: list[int] = []


# One change as a notice carries it: its size there, the event (None for an id), its
# owner's id or the id, and whether it is a `$groupidentify`. Plain tuples: the processor
# makes one per new event.
_Item = tuple[int, bytes | None, msgspec.Raw, bool]


# Whether a reader wants the new events of (project id, distinct id) whole.
Wants = Callable[[str, str], bool]
_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(_Notice).decode
_decode_event = msgspec.msgpack.Decoder(Event).decode


def encode_notices(changes: Sequence[Changed], max_bytes: int) -> Iterator[bytes]:
    """Notices of at most `max_bytes` each: the new events in order, then the other
    changes' ids, deduplicated (so an id follows any event of it: its context is dropped)."""
    budget = max_bytes - _OVERHEAD
    items, everyone = _parts(changes)
    sent, size = _Sent(events=[], ids=[]), 0
    for length, event, owner, group in items:
        if length > budget:
            everyone = True
            continue
        if size + length > budget:
            yield _encode(sent)
            sent, size = _Sent(events=[], ids=[]), 0
        _add(sent, event, owner, group)
        size += length
    if sent.events or sent.ids or everyone:
        sent.everyone = everyone
        yield _encode(sent)


def _add(sent: _Sent, event: bytes | None, owner: msgspec.Raw, group: bool) -> None:
    if event is None:
        sent.ids.append(owner)
        return
    if group:
        sent.groups.append(len(sent.events))
    sent.events.append(event)
    sent.owners.append(owner)


def decode_notice(data: bytes, wants: Wants | None = None) -> list[Changed]:
    """What a notice says changed: its events whole (with `wants`: those it wants, and the
    ids of the others); EVERYONE when it cannot be read (cut, or not ours)."""
    try:
        notice = _decode(data)
        events = _events(notice, wants)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        log.warning("notice_unreadable", error=str(exc)[:200], size=len(data))
        return [EVERYONE]
    return [*events, *notice.ids, *([EVERYONE] if notice.everyone else [])]


def _events(notice: _Notice, wants: Wants | None) -> list[Changed]:
    """The events whole, or with `wants` their owners' ids but for those it wants and the
    `$groupidentify` ones."""
    count = len(notice.events)
    if len(notice.owners) != count or not all(0 <= i < count for i in notice.groups):
        raise msgspec.ValidationError("events and their owners do not match")
    if wants is None:
        return [_decode_event(e) for e in notice.events]
    events: list[Changed] = list(notice.owners)
    whole = {i for i, o in enumerate(notice.owners) if wants(o.project_id, o.distinct_id)}
    for i in whole.union(notice.groups):
        events[i] = _decode_event(notice.events[i])
    return events


def _parts(changes: Sequence[Changed]) -> tuple[list[_Item], bool]:
    """The new events, then the ids of the rest; and whether an id failed to encode."""
    items: list[_Item] = []
    rest: set[tuple[str, str]] = set()
    everyone = False
    for change in changes:
        if (item := _item(change)) is not None:
            items.append(item)
        elif change == EVERYONE:
            everyone = True
        else:
            rest.add((change.project_id, change.distinct_id))
    for project_id, distinct_id in sorted(rest):
        if (encoded := _id_bytes(project_id, distinct_id)) is None:
            everyone = True
        else:
            items.append((len(encoded), None, msgspec.Raw(encoded), False))
    return items, everyone


def _item(change: Changed) -> _Item | None:
    if not isinstance(change, Event):
        return None
    try:
        encoded = _encode(change)
    except (OverflowError, UnicodeEncodeError, TypeError, msgspec.EncodeError):
        return None  # e.g. a property holding an integer beyond 64 bits: sent as its id
    owner = _id_bytes(change.project_id, change.distinct_id)
    if len(encoded) > EVENT_BYTES_MAX or owner is None:
        return None
    size = len(encoded) + len(owner) + _ITEM_OVERHEAD
    return size, encoded, msgspec.Raw(owner), change.name == "$groupidentify"


def _id_bytes(project_id: str, distinct_id: str) -> bytes | None:
    """A PersonId's encoding (from a dict: the processor encodes one per new event)."""
    try:
        return _encode({"project_id": project_id, "distinct_id": distinct_id})
    except UnicodeEncodeError:  # a lone surrogate: no id to name, so everyone
        return None
