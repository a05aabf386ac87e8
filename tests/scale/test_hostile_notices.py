"""Change notices with hostile contents, through `serve`'s local sockets and Redis Pub/Sub:
nothing crashes, and every change arrives, as its event, its id, or EVERYONE (every cached
context dropped), never not at all. Ids here go past what the edges accept (core.ids), as a
bug or a future path could send them."""

from __future__ import annotations

import asyncio
import tempfile
import uuid as uuidlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis.asyncio as aioredis
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests import backends
from tests.factories import make_event, make_raw
from tests.scale.test_local_notices import stop
from tests.services.test_context_cache import context_for, group_identify, inputs_for
from usertrail.adapters.local_notices import (
    MAX_DATAGRAM,
    ProcessorNotices,
    ServingNotices,
    channels,
)
from usertrail.adapters.notice_wire import decode_notice, encode_notices
from usertrail.adapters.processor_lock import ProcessorLock
from usertrail.adapters.redis_changes import NOTICE_BYTES_MAX, RedisChangeNotices
from usertrail.core.context.build import ContextOptions
from usertrail.model.event import EVERYONE, Changed, Event, PersonId
from usertrail.services.context_cache import ContextCache
from usertrail.settings import Settings
from usertrail.wiring import build_runtime

SURROGATE = "\ud800"
SLOW_AND_LARGE = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]
# Any text, with what breaks encoders and protocols made likely: NUL, `/`, bidi overrides,
# 4-byte characters, lone surrogates, and lengths from one character to 20,000.
pieces = st.sampled_from(["\x00", "/", "\u202e", "😀", "é", "%2F", "\n", SURROGATE, "a"])
hostile_text = st.one_of(
    st.text(st.characters(blacklist_categories=()), max_size=30),
    st.builds(lambda p, n: p * n, pieces, st.sampled_from([1, 200, 10_000, 20_000])),
)
numbers = st.one_of(
    st.integers(), st.sampled_from([10**30, -(2**64) - 1, 2**64]), st.floats(allow_nan=False)
)
values = st.recursive(
    st.none() | st.booleans() | numbers | hostile_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(hostile_text, inner, max_size=4),
    max_leaves=12,
)


@st.composite
def events(draw: st.DrawFn) -> Event:
    text = draw(hostile_text)
    at = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=draw(st.integers(0, 10**8)))
    return Event(
        project_id=draw(st.sampled_from(["p1", text])),
        uuid=str(uuidlib.UUID(int=draw(st.integers(0, 2**128 - 1)))),
        distinct_id=draw(hostile_text),
        name=text,
        kind=draw(st.sampled_from(["pageview", "click", text])),
        timestamp=at,
        session_id=draw(st.none() | hostile_text),
        url=text,
        path=text,
        page=draw(st.none() | hostile_text),
        label=draw(hostile_text),
        matched=(text,),
        properties=draw(st.dictionaries(hostile_text, values, max_size=4)),
        groups=((text, text),),
    )


person_ids = st.builds(
    PersonId, project_id=st.sampled_from(["p1"]) | hostile_text, distinct_id=hostile_text
)
batches = st.lists(st.one_of(events(), person_ids), min_size=1, max_size=12)


def covered(sent: Sequence[Changed], heard: Sequence[Changed]) -> list[Changed]:
    """What was sent and did not arrive as itself, its id, or EVERYONE (should be nothing)."""
    if EVERYONE in heard:
        return []
    ids = {(c.project_id, c.distinct_id) for c in heard}
    heard_events = [c for c in heard if isinstance(c, Event)]
    return [
        c
        for c in sent
        if (c.project_id, c.distinct_id) not in ids
        or (isinstance(c, Event) and c not in heard_events and _as_id(c) not in heard)
    ]


def _as_id(change: Changed) -> PersonId:
    return PersonId(project_id=change.project_id, distinct_id=change.distinct_id)


@settings(max_examples=300, deadline=None, suppress_health_check=SLOW_AND_LARGE)
@given(batches, st.sampled_from([MAX_DATAGRAM - 1, NOTICE_BYTES_MAX, 4096]))
def test_every_hostile_change_is_encoded_within_bounds_and_arrives(
    batch: list[Changed], max_bytes: int
) -> None:
    notices = list(encode_notices(batch, max_bytes))
    assert all(len(n) <= max_bytes for n in notices)
    heard = [change for notice in notices for change in decode_notice(notice)]
    assert covered(batch, heard) == []


def every_other_id(batch: Sequence[Changed]) -> set[tuple[str, str]]:
    return {(c.project_id, c.distinct_id) for c in batch[::2]}


def whole_if_wanted(changes: Sequence[Changed], wanted: set[tuple[str, str]]) -> list[Event]:
    """The events a reader wanting `wanted` gets whole (and every `$groupidentify`)."""
    return [
        c
        for c in changes
        if isinstance(c, Event)
        and ((c.project_id, c.distinct_id) in wanted or c.name == "$groupidentify")
    ]


@settings(max_examples=300, deadline=None, suppress_health_check=SLOW_AND_LARGE)
@given(batches)
def test_a_reader_gets_whole_only_the_events_it_wants_and_the_ids_of_the_others(
    batch: list[Changed],
) -> None:
    wanted = every_other_id(batch)
    notices = list(encode_notices(batch, MAX_DATAGRAM - 1))
    heard = [c for n in notices for c in decode_notice(n, lambda p, d: (p, d) in wanted)]
    assert covered(batch, heard) == []
    whole = [c for c in heard if isinstance(c, Event)]
    assert whole == whole_if_wanted([c for n in notices for c in decode_notice(n)], wanted)


def test_an_id_too_large_for_any_notice_says_everyone() -> None:
    huge = PersonId(project_id="p1", distinct_id="😀" * 20_000)  # 80 kB: no datagram holds it
    [notice] = encode_notices([huge], MAX_DATAGRAM - 1)
    assert decode_notice(notice) == [EVERYONE]


def test_a_notice_that_cannot_be_read_says_everyone() -> None:
    [notice] = encode_notices([make_event(make_raw(distinct_id="u"))], MAX_DATAGRAM)
    assert decode_notice(notice[: len(notice) // 2]) == [EVERYONE]  # a cut datagram
    assert decode_notice(b"\xc1 not msgpack") == [EVERYONE]


def test_everyone_drops_every_cached_context_and_any_load_it_raced() -> None:
    cache = ContextCache()
    cache.put(("p1", "u1", ContextOptions()), context_for("u1"))
    since = cache.generation()
    cache.invalidate([EVERYONE])
    assert cache.get(("p1", "u1", ContextOptions())) is None
    loaded = (inputs_for("u2"), 10, since)
    cache.put(("p1", "u2", ContextOptions()), context_for("u2"), loaded=loaded)
    assert cache.get(("p1", "u2", ContextOptions())) is None  # loaded before the notice


def test_a_cache_reading_notices_advances_what_it_holds_and_still_refuses_raced_loads() -> None:
    """Decoded for the cache (whole only the events of ids it holds), a notice still advances
    a held context, and still keeps out a context of anyone it names loaded before it."""
    cache, held, other = ContextCache(), "user/ü\u202e", "other\x00😀"
    key = ("p1", held, ContextOptions())
    cache.put(key, context_for(held), loaded=(inputs_for(held), 20, cache.generation()))
    since = cache.generation()  # a load of `other` starts
    events = [make_event(make_raw(distinct_id=d, project_id="p1")) for d in (held, other)]
    [notice] = encode_notices(events, MAX_DATAGRAM)
    heard = decode_notice(notice, cache.holds)
    assert heard == [events[0], PersonId(project_id="p1", distinct_id=other)]
    cache.invalidate(heard)
    assert cache.inputs(key) is not None  # advanced: built from its inputs at the next read
    raced = ("p1", other, ContextOptions())
    cache.put(raced, context_for(other), loaded=(inputs_for(other), 20, since))
    assert cache.get(raced) is None


async def _local_round_trip(
    batch: list[Changed], wants: Callable[[str, str], bool] | None = None
) -> list[Changed]:
    """`batch` published by a real processor socket, as a real serving socket hears it."""
    [(own, end)] = channels(1)
    lock = Path(tempfile.gettempdir()) / f"hostile-{uuidlib.uuid4().hex}.lock"
    processor = ProcessorNotices([end.detach()], ProcessorLock(lock, server_pid=1), linger_s=0)
    serving = ServingNotices(own.detach())
    serving.wants_event = wants
    heard: list[Changed] = []
    done = asyncio.Event()
    marker = PersonId(project_id="p1", distinct_id="end-of-batch")

    def deliver(changes: Sequence[Changed]) -> None:
        heard.extend(changes)
        # EVERYONE ends it too: a datagram the full queue refused (a batch of megabytes)
        # arrives as EVERYONE, after every one that was refused, the marker too.
        if marker in changes or EVERYONE in changes:
            done.set()

    tasks = [asyncio.create_task(processor.listen(lambda _c: None))]
    tasks.append(asyncio.create_task(serving.listen(deliver)))
    try:
        for _ in range(1000):  # until the processor knows it, from its hello
            if serving.processor_seen:
                break
            await asyncio.sleep(0.01)
        processor.publish(batch)
        processor.publish([marker])  # datagrams on one socket arrive in order
        await asyncio.wait_for(done.wait(), 10)
        return heard
    finally:
        await stop(tasks, processor, serving)
        lock.unlink()


# More datagrams (one 40 kB id each) than a reader's queue holds: net.unix.max_dgram_qlen is
# 10 by default, and the sender's buffer holds fewer of this size.
OVERFLOWING = [PersonId(project_id="p1", distinct_id=f"{i}/" + "é" * 20_000) for i in range(12)]


@settings(max_examples=40, deadline=None, suppress_health_check=SLOW_AND_LARGE)
@given(batches)
@example(OVERFLOWING)
def test_hostile_changes_through_local_sockets_all_arrive(batch: list[Changed]) -> None:
    heard = asyncio.run(_local_round_trip(batch))
    assert covered(batch, heard) == []


def test_a_serving_socket_decodes_whole_only_the_events_it_wants() -> None:
    ids = ["ünï/cødé \u202e", "😀" * 3000, "a\x00b", "/"]  # 12 kB of emoji: one datagram
    batch: list[Changed] = [make_event(make_raw(distinct_id=i, project_id="p1")) for i in ids]
    batch += [group_identify("acme"), PersonId(project_id="p1", distinct_id="merged/ü")]
    wanted = {("p1", ids[0]), ("p1", ids[1])}
    heard = asyncio.run(_local_round_trip(batch, lambda p, d: (p, d) in wanted))
    assert covered(batch, heard) == []
    assert [c for c in heard if isinstance(c, Event)] == [batch[0], batch[1], batch[4]]
    assert _as_id(batch[2]) in heard
    assert _as_id(batch[3]) in heard


async def _redis_round_trip(
    batch: list[Changed], channel: str, wants: Callable[[str, str], bool] | None = None
) -> list[Changed]:
    """`batch` published by a worker's notices, as a serving process's subscription hears it
    (after a garbage message on the channel, which must not end the subscription)."""
    sender = RedisChangeNotices(backends.REDIS_URL, channel)
    hearer = RedisChangeNotices(backends.REDIS_URL, channel)
    hearer.wants_event = wants
    heard: list[Changed] = []
    subscribed, done = asyncio.Event(), asyncio.Event()
    marker = PersonId(project_id="p1", distinct_id="end-of-batch")

    def deliver(changes: Sequence[Changed]) -> None:
        if not subscribed.is_set():
            assert list(changes) == [EVERYONE]  # on subscribing: notices may have been missed
            subscribed.set()
            return
        heard.extend(changes)
        if marker in changes:
            done.set()

    listening = asyncio.create_task(hearer.listen(deliver))
    raw = aioredis.Redis.from_url(backends.REDIS_URL)
    try:
        await asyncio.wait_for(subscribed.wait(), 10)
        await raw.publish(channel, b"\xc1 garbage from anyone who can reach Redis")
        sender.publish(batch)
        sender.publish([marker])
        await asyncio.wait_for(done.wait(), 10)
        return heard
    finally:
        listening.cancel()
        await asyncio.gather(listening, return_exceptions=True)
        await raw.aclose()
        await sender.aclose()
        await hearer.aclose()


@settings(max_examples=40, deadline=None, suppress_health_check=SLOW_AND_LARGE)
@given(batches)
def test_hostile_changes_through_redis_all_arrive(batch: list[Changed]) -> None:
    with backends.redis_prefix() as prefix:
        heard = asyncio.run(_redis_round_trip(batch, f"{prefix}:changes"))
    assert heard[0] == EVERYONE  # the garbage message: every cached context dropped
    assert covered(batch, heard[1:]) == []


def test_a_redis_subscriber_decodes_whole_only_the_events_it_wants() -> None:
    """As `serve`'s local sockets: a context process reads whole only the events of persons
    its cache holds, and every `$groupidentify`; the others arrive as their ids."""
    ids = ["ünï/cødé \u202e", "😀" * 3000, "a\x00b", "/", "x" * 20_000]
    batch: list[Changed] = [make_event(make_raw(distinct_id=i, project_id="p1")) for i in ids]
    batch += [group_identify("acme"), PersonId(project_id="p1", distinct_id="merged/ü")]
    wanted = {("p1", ids[0]), ("p1", ids[1])}
    with backends.redis_prefix() as prefix:
        heard = asyncio.run(
            _redis_round_trip(batch, f"{prefix}:changes", lambda p, d: (p, d) in wanted)
        )
    assert covered(batch, heard[1:]) == []
    assert [c for c in heard if isinstance(c, Event)] == [batch[0], batch[1], batch[5]]
    assert [_as_id(c) in heard for c in batch[2:5]] == [True, True, True]


def test_a_context_process_reads_notices_for_what_its_cache_holds(tmp_path: Path) -> None:
    with backends.pg_schema_url() as url, backends.redis_prefix() as prefix:
        settings = Settings(
            data_dir=tmp_path,
            database_url=url,
            bus_url=backends.REDIS_URL,
            bus_prefix=prefix,
            role="context",
            demo=False,
        )
        runtime = build_runtime(settings)
        try:
            assert isinstance(runtime.changes, RedisChangeNotices)
            assert runtime.changes.wants_event == runtime.context.cache.holds
        finally:
            asyncio.run(runtime.close())


async def _huge_id_drops_cachedcontext_for() -> None:
    huge = "😀" * 20_000  # no datagram holds its id
    cache = ContextCache()
    key = ("p1", huge, ContextOptions())
    cache.put(key, context_for(huge))
    assert cache.get(key) is not None
    heard = await _local_round_trip([PersonId(project_id="p1", distinct_id=huge)])
    cache.invalidate(heard)
    assert cache.get(key) is None


def test_a_cached_context_whose_id_no_datagram_holds_is_still_dropped() -> None:
    asyncio.run(_huge_id_drops_cachedcontext_for())
