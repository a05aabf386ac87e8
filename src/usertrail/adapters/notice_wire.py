"""Change notices as bytes: one encoding for `serve`'s local datagrams and Redis Pub/Sub.

A notice carries the processor's new events whole, so a serving process advances a cached
context with them instead of reading the database again (services.context_cache), and the
other changes' ids (merges, person updates, erasures: their contexts are dropped). Each notice
is at most `max_bytes`: a datagram or a Pub/Sub message of bounded size. Nothing is left out
silently: an event too large (EVENT_BYTES_MAX) or that msgpack cannot hold (an integer beyond
64 bits) goes as its id; an id too large for a notice, or one that cannot be encoded, makes
the notice say EVERYONE; a notice that cannot be read is taken as EVERYONE too.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import msgspec
import structlog

from usertrail.model.event import EVERYONE, Changed, Event, PersonId

log = structlog.get_logger("usertrail.notices")
EVENT_BYTES_MAX = 16 * 1024  # a larger new event goes as its id: its context is rebuilt
_OVERHEAD = 16  # a notice's array headers and flag, around its events and ids


class _Sent(msgspec.Struct, array_like=True):
    events: list[msgspec.Raw]  # each encoded once, to know its size
    ids: list[msgspec.Raw]
    everyone: bool = False


class _Notice(msgspec.Struct, array_like=True):
    events: list[Event]
    ids: list[PersonId]
    everyone: bool = False


_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(_Notice).decode


def encode_notices(changes: Sequence[Changed], max_bytes: int) -> Iterator[bytes]:
    """Notices of at most `max_bytes` each: the new events in order, then the other
    changes' ids, deduplicated (so an id follows any event of it: its context is dropped)."""
    budget = max_bytes - _OVERHEAD
    events, ids, everyone = _parts(changes)
    sent, size = _Sent(events=[], ids=[]), 0
    for is_event, item in [*((True, e) for e in events), *((False, i) for i in ids)]:
        if len(item) > budget:
            everyone = True
            continue
        if size + len(item) > budget:
            yield _encode(sent)
            sent, size = _Sent(events=[], ids=[]), 0
        (sent.events if is_event else sent.ids).append(msgspec.Raw(item))
        size += len(item)
    if sent.events or sent.ids or everyone:
        yield _encode(_Sent(events=sent.events, ids=sent.ids, everyone=everyone))


def decode_notice(data: bytes) -> list[Changed]:
    """What a notice says changed; EVERYONE when it cannot be read (cut, or not ours)."""
    try:
        notice = _decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        log.warning("notice_unreadable", error=str(exc)[:200], size=len(data))
        return [EVERYONE]
    return [*notice.events, *notice.ids, *([EVERYONE] if notice.everyone else [])]


def _parts(changes: Sequence[Changed]) -> tuple[list[bytes], list[bytes], bool]:
    """The encoded events, the encoded ids of the rest, and whether an id failed to encode."""
    events: list[bytes] = []
    rest: set[tuple[str, str]] = set()
    everyone = False
    for change in changes:
        if (encoded := _event_bytes(change)) is not None:
            events.append(encoded)
        elif change == EVERYONE:
            everyone = True
        else:
            rest.add((change.project_id, change.distinct_id))
    ids = [_id_bytes(p, d) for p, d in sorted(rest)]
    return events, [i for i in ids if i is not None], everyone or None in ids


def _event_bytes(change: Changed) -> bytes | None:
    if not isinstance(change, Event):
        return None
    try:
        encoded = _encode(change)
    except (OverflowError, UnicodeEncodeError, TypeError, msgspec.EncodeError):
        return None  # e.g. a property holding an integer beyond 64 bits: sent as its id
    return encoded if len(encoded) <= EVENT_BYTES_MAX else None


def _id_bytes(project_id: str, distinct_id: str) -> bytes | None:
    try:
        return _encode(PersonId(project_id=project_id, distinct_id=distinct_id))
    except UnicodeEncodeError:  # a lone surrogate: no id to name, so everyone
        return None
