"""A person's loaded context inputs, moved forward by one new event without the database.

The context cache keeps what a read loaded (ContextInputs); when the processor stores a new
event of that person, `advance` gives the inputs a fresh load would give, or None when it
cannot tell exactly from what is loaded (then the entry is dropped and the next read loads
again). What a plain activity event changes: the recent events, the counters, the distinct-
count sets and the person's first/last seen. Person and group updates, merges and account
activity are not plain: their events are refused here (or announced apart, see the processor).
"""

from __future__ import annotations

from bisect import insort
from datetime import UTC, datetime, time

import msgspec

from usertrail.core.aggregates import counter_keys, set_members
from usertrail.core.context.build import ContextInputs
from usertrail.core.posthog_events import is_activity
from usertrail.model.counter import Counter
from usertrail.model.event import Event
from usertrail.model.person import PersonRef

# As the store keeps an event: JSON, decoded again (the read side sees that copy).
_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(Event).decode


def advance(inputs: ContextInputs, event: Event, limit: int) -> ContextInputs | None:
    """`inputs` (loaded with up to `limit` recent events) after `event` was stored."""
    if not is_activity(event.kind) or event.groups:
        return None
    ids = inputs.person.distinct_ids
    if event.distinct_id not in ids:
        return None
    stored = _decode(_encode(event))
    ts = stored.timestamp.astimezone(UTC)
    if len(ids) > 1 and ts < inputs.person.last_seen:
        return None  # it may move its id's first seen, and with it the order of the ids
    if any(e.uuid == stored.uuid for e in inputs.events):
        return inputs  # the load already saw it (it committed before the read)
    window = _window(inputs.events, stored, ts, limit)
    if window is None:
        return None
    sizes = _set_sizes(inputs, stored, ts, limit)
    if sizes is None:
        return None
    return msgspec.structs.replace(
        inputs,
        person=_person(inputs, ts),
        events=window,
        counters=_counters(inputs.counters, counter_keys(stored, inputs.config), ts),
        set_sizes=sizes,
    )


def _full(events: tuple[Event, ...], limit: int) -> bool:
    """A full window holds the newest `limit` events: older ones exist beyond it."""
    return len(events) >= limit


def _window(
    events: tuple[Event, ...], event: Event, ts: datetime, limit: int
) -> tuple[Event, ...] | None:
    """The newest `limit` events with `event` among them; None on a tie at the window's edge
    (the store's own order decides) or for an event older than a full window."""
    if _full(events, limit) and events and ts <= events[0].timestamp:
        return None  # older than the window: was it counted by the load? Unknown.
    ordered = list(events)
    insort(ordered, event, key=lambda e: (e.timestamp, e.uuid))
    if len(ordered) > limit:
        dropped, ordered = ordered[: len(ordered) - limit], ordered[len(ordered) - limit :]
        if ordered and dropped[-1].timestamp == ordered[0].timestamp:
            return None
    return tuple(ordered)


def _set_sizes(
    inputs: ContextInputs, event: Event, ts: datetime, limit: int
) -> dict[str, int] | None:
    """Each set the event joins grows by one if the member is new. Whether it is new is
    known from the window when every event that could hold it is in the window: a member is
    a session on a day, so the window must reach back before that day (or hold everything)."""
    joined = set_members(event)
    if not joined:
        return inputs.set_sizes
    known = {pair for e in inputs.events for pair in set_members(e)}
    start_of_day = datetime.combine(ts.date(), time(), tzinfo=UTC)
    complete = not _full(inputs.events, limit) or inputs.events[0].timestamp < start_of_day
    sizes = dict(inputs.set_sizes)
    for pair in joined:
        if pair in known:
            continue
        if not complete:
            return None
        known.add(pair)
        sizes[pair[0]] = sizes.get(pair[0], 0) + 1
    return sizes


def _counters(counters: dict[str, Counter], keys: list[str], ts: datetime) -> dict[str, Counter]:
    out = dict(counters)
    one = Counter(count=1, first=ts, last=ts)
    for key in keys:
        out[key] = out[key].merged(one) if key in out else one
    return out


def _person(inputs: ContextInputs, ts: datetime) -> PersonRef:
    person = inputs.person
    return msgspec.structs.replace(
        person, first_seen=min(person.first_seen, ts), last_seen=max(person.last_seen, ts)
    )
