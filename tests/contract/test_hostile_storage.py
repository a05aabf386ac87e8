"""Hostile ids through the raw log's dedupe and the derived store's "stored before", on SQLite
and PostgreSQL: a client's retry is published as the log holds each event, a slice's events
are stored once and its duplicates found, and what workers derive from the bus is what a
replay of the log derives.

What the capture path does with the worst of it (see core.ids, core.envelope): a distinct id
with NUL or over 200 characters is refused; an event name is cut to 200 characters and its
NUL replaced in the `event` column (the body keeps both); a uuid that is not one is replaced
by one derived from the content; session ids, property keys and values are kept as sent in
the body, so they reach derivation whole (NUL, 10,000 characters, numbers past 64 bits as
JSON gives them: floats).
"""

from __future__ import annotations

import asyncio
import uuid as uuidlib
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import psycopg
import pytest
import redis.asyncio as aioredis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.exc import DataError

from tests import backends
from tests.contract.test_feeds import sql
from tests.scale.test_concurrent_slices import dump
from usertrail.adapters.redis_bus import RedisStreamBus
from usertrail.adapters.sql.eventlog import SqlEventLog
from usertrail.adapters.sql.key_chunks import KEYS_PER_STATEMENT, project_chunks
from usertrail.adapters.sql.pg_bulk import STAGE_MIN_ROWS
from usertrail.adapters.sql.projects import SqlProjects
from usertrail.adapters.sql.store import SqlDerivedStore, count_events
from usertrail.adapters.sql.tables import counters, events
from usertrail.core.capture import split_request
from usertrail.core.envelope import stored_name, to_raw_events
from usertrail.core.ids import MAX_ID_CHARS, is_valid_id
from usertrail.core.normalize import MAX_KEPT_PROPERTIES, normalize
from usertrail.core.posthog_events import is_activity
from usertrail.core.process import derive
from usertrail.errors import BadPayload
from usertrail.model.config import ProjectConfig
from usertrail.model.event import Changed, Event
from usertrail.model.raw import LoggedEvent, RawEvent
from usertrail.observability import Metrics
from usertrail.ports import AppendResult
from usertrail.services.feeds import BusFeed, LogFeed
from usertrail.services.ingest import IngestService
from usertrail.services.processor import Processor
from usertrail.services.replay import replay

CONFIG = ProjectConfig()
CAPTURED = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
FIRST = CAPTURED + timedelta(seconds=1)  # the first attempt's receipt time
RETRY = CAPTURED + timedelta(seconds=4)  # the retry's: its copies get their own timestamps
SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture]
_encode = msgspec.json.Encoder().encode  # keeps key order: derivation reads it

# --- hostile inputs -------------------------------------------------------------------------

# What breaks encoders, protocols and comparisons: NUL, `/`, a bidi override, a 4-byte
# character, é composed and decomposed (two keys to the database, as to Python), `%2F`.
PIECES = ["\x00", "/", "\u202e", "😀", "é", "e\u0301", "%2F", "\n", "a", " "]
short_text = st.text(st.characters(codec="utf-8"), max_size=30)
hostile_text = st.one_of(
    short_text,
    st.builds(lambda p, n: p * n, st.sampled_from(PIECES), st.sampled_from([1, 200, 10_000])),
)
# Ids as capture accepts them (core.ids): any Unicode but controls, up to 200 characters.
valid_ids = st.one_of(
    st.text(
        st.characters(codec="utf-8", exclude_categories=["Cc"]), min_size=1, max_size=MAX_ID_CHARS
    ),
    st.builds(
        lambda p, n: p * n,
        st.sampled_from(["😀", "/", "é", "e\u0301", "%2F", "\u202e", "ünï/cødé"]),
        st.sampled_from([1, 25, 100]),
    ),
).filter(is_valid_id)
numbers = st.one_of(
    st.integers(-(2**63), 2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    # Past 64 bits JSON decoding (orjson) gives floats: what a body can hold.
    st.sampled_from([1e300, -1e300, 1e23, 2.0**64, 1e30, -(2.0**63) - 1e5]),
)
values = st.none() | st.booleans() | numbers | short_text
# The event's uuid as SDKs might spell it: canonical, upper case, braced, URN, or not a uuid.
spelled_uuids = st.one_of(
    st.none(),
    st.uuids().map(str),
    st.uuids().map(lambda u: str(u).upper()),
    st.uuids().map(lambda u: f"{{{u}}}"),
    st.uuids().map(lambda u: u.urn),
    hostile_text,
)


@st.composite
def capture_events(draw: st.DrawFn) -> dict[str, Any]:
    """One posthog-js style event. More custom properties than normalize keeps and more
    groups than it reads, so derivation depends on which of them come first."""
    props: dict[str, Any] = draw(
        st.dictionaries(short_text, values, min_size=2, max_size=MAX_KEPT_PROPERTIES + 5)
    )
    props[draw(hostile_text)] = draw(values)  # one key of any length
    props["$session_id"] = draw(hostile_text)
    props["$current_url"] = "https://app.test/" + draw(hostile_text)
    props["$groups"] = draw(st.dictionaries(short_text, short_text, max_size=12))
    name = draw(st.sampled_from(["$pageview", "feature_used", "$autocapture"]) | hostile_text)
    if name == "feature_used":
        props["feature"] = draw(hostile_text)
    event: dict[str, Any] = {
        "event": name or "x",
        "distinct_id": draw(valid_ids),
        "timestamp": CAPTURED.isoformat(),
        "properties": props,
    }
    if (given_uuid := draw(spelled_uuids)) is not None:
        event["uuid"] = given_uuid
    return event


capture_batches = st.lists(capture_events(), min_size=1, max_size=6)


def reordered(event: dict[str, Any]) -> dict[str, Any]:
    """The same event serialized by another client: every object's keys in reverse order."""
    if isinstance(event, dict):
        return {k: reordered(v) for k, v in reversed(event.items())}
    return event


# --- one deployment per test, one project per example ---------------------------------------


def new_project_id() -> str:
    """Examples share a database: each has a project (and so keys) of its own."""
    return f"p/é😀-{uuidlib.uuid4().hex[:12]}"


@dataclass
class Deployment:
    """Scale-out in one process: ingest publishing to the real Redis, a bus worker, and the
    embedded processor's view (the raw log) of the same database."""

    log: SqlEventLog
    store: SqlDerivedStore
    engine: Engine
    bus: RedisStreamBus
    project_id: str
    token: str

    def ingest(self, received: datetime) -> IngestService:
        projects = SqlProjects(self.engine)
        return IngestService(self.log, projects, Metrics(), clock=lambda: received, bus=self.bus)

    def payload(self, batch: list[dict[str, Any]]) -> dict[str, Any]:
        """An attempt at sending `batch`: its receipt time corrects the events' timestamps
        (receipt + timestamp - sent_at), so each attempt's copies have their own."""
        return {"api_key": self.token, "batch": batch, "sent_at": CAPTURED.isoformat()}

    async def capture(self, batch: list[dict[str, Any]], received: datetime) -> AppendResult:
        return await self.ingest(received).capture_payload(self.payload(batch), {}, None)

    def processor(self, feed: BusFeed | LogFeed) -> Processor:
        return Processor(feed, self.store, lambda _p: CONFIG, Metrics())

    def bus_worker(self, name: str) -> Processor:
        feed = BusFeed(self.bus, name, block_ms=50, reclaim_idle_ms=100, reclaim_every_s=0)
        return self.processor(feed)

    async def logged(self) -> list[RawEvent]:
        """This project's raw log."""
        everything = await self.log.read_after(0, 1_000_000)
        return [item.raw for item in everything if item.raw.project_id == self.project_id]

    async def published(self) -> list[RawEvent]:
        """Every entry on the bus, read without consuming it."""
        client = aioredis.Redis.from_url(backends.REDIS_URL)
        decode = msgspec.msgpack.Decoder(RawEvent).decode
        try:
            return [
                decode(fields[b"e"])
                for stream in self.bus.streams
                for _id, fields in await client.xrange(stream)
            ]
        finally:
            await client.aclose()


@asynccontextmanager
async def deployment(url: str) -> AsyncIterator[Deployment]:
    """A project of its own on the database at `url`, and a bus of its own."""
    with backends.redis_prefix() as prefix:
        async with sql(url) as (log, store, engine):
            project_id = new_project_id()
            project, _ = SqlProjects(engine).ensure(project_id, "Hostile")
            bus = RedisStreamBus(backends.REDIS_URL, prefix=prefix, partitions=3)
            try:
                yield Deployment(log, store, engine, bus, project_id, project.token)
            finally:
                await bus.aclose()


def by_key(copies: Sequence[RawEvent]) -> dict[tuple[str, str], bytes]:
    return {(e.project_id, e.uuid): _encode(e) for e in copies}


# --- duplicate retries ----------------------------------------------------------------------


async def _retried(url: str, batch: list[dict[str, Any]]) -> None:
    async with deployment(url) as d:
        first = await d.capture(batch, FIRST)
        retry_batch = [reordered(e) for e in batch]
        retry = await d.capture(retry_batch, RETRY)
        logged = by_key(await d.logged())
        assert first.accepted == len(logged)
        assert (retry.accepted, retry.duplicates) == (0, len(batch))

        # The retry's own copies (their own timestamps and key order) as the log holds them.
        request = split_request(d.payload(retry_batch), query={})
        copies = to_raw_events(request, project_id=d.project_id, now=RETRY, source="capture")
        as_logged = await d.log.as_logged(copies)
        assert [_encode(e) for e in as_logged] == [logged[e.project_id, e.uuid] for e in copies]

        # Both attempts published; each copy on the bus is the log's, exactly.
        published = await d.published()
        assert len(published) == 2 * len(batch)
        assert [_encode(e) for e in published] == [logged[e.project_id, e.uuid] for e in published]


@settings(max_examples=12, deadline=None, suppress_health_check=SLOW)
@given(batch=capture_batches)
def test_hostile_retries_are_published_as_the_log_holds_each_event(
    database_url: str, batch: list[dict[str, Any]]
) -> None:
    asyncio.run(_retried(database_url, batch))


# --- processing: stored once, duplicates found, the state a replay gives --------------------


async def _processed(url: str, batch: list[dict[str, Any]]) -> None:
    async with deployment(url) as d:
        await d.capture(batch, FIRST)
        await d.capture([reordered(e) for e in batch], RETRY)
        logged = await d.logged()

        await d.bus_worker("w1").drain()
        assert await d.store.dead_count() == 0
        with d.engine.connect() as conn:
            assert count_events(conn, d.project_id) == len(logged)
            query = select(events.c.uuid, events.c.data).where(events.c.project_id == d.project_id)
            stored = {
                row.uuid: msgspec.json.decode(row.data, type=Event) for row in conn.execute(query)
            }
        assert stored == {e.uuid: normalize(e, CONFIG) for e in logged}

        # The embedded processor's pass over the same log finds every event stored already.
        heard: list[Changed] = []
        follower = d.processor(LogFeed(d.log, d.store))
        follower.listeners.append(heard.extend)
        before = dump(d.engine)
        await follower.drain()
        assert heard == []
        assert dump(d.engine) == before

        # And a replay of the log rebuilds exactly what the workers built from the bus.
        await replay(d.store, d.processor(LogFeed(d.log, d.store, cursor="replay")))
        assert dump(d.engine) == before


@settings(max_examples=12, deadline=None, suppress_health_check=SLOW)
@given(batch=capture_batches)
def test_hostile_events_from_the_bus_are_stored_once_as_a_replay_stores_them(
    database_url: str, batch: list[dict[str, Any]]
) -> None:
    asyncio.run(_processed(database_url, batch))


async def test_more_properties_than_are_kept_are_kept_as_a_replay_keeps_them(
    database_url: str,
) -> None:
    """normalize keeps the first MAX_KEPT_PROPERTIES custom properties it meets, and the log
    holds a body's keys sorted: a worker must meet them in that order too."""
    many = {f"k{i:02d}": i for i in reversed(range(MAX_KEPT_PROPERTIES + 5))}
    event = {"event": "clicked", "distinct_id": "u1", "properties": many}
    event["uuid"] = str(uuidlib.uuid4())
    async with deployment(database_url) as d:
        await d.capture([event], FIRST)
        await d.bus_worker("w1").drain()
        [logged] = await d.logged()
        with d.engine.connect() as conn:
            data: bytes = conn.execute(select(events.c.data)).scalar_one()
        kept = msgspec.json.decode(data, type=Event).properties
        assert kept == normalize(logged, CONFIG).properties
        assert sorted(kept) == [f"k{i:02d}" for i in range(MAX_KEPT_PROPERTIES)]


async def test_a_distinct_id_past_the_rule_is_refused_and_nothing_is_kept(
    database_url: str,
) -> None:
    async with deployment(database_url) as d:
        for hostile in ["😀" * 10_000, "a" * 10_000, "a\x00b", "/" * (MAX_ID_CHARS + 1)]:
            event = {"event": "clicked", "distinct_id": hostile, "uuid": str(uuidlib.uuid4())}
            with pytest.raises(BadPayload):
                await d.capture([event], FIRST)
        assert await d.logged() == []
        assert await d.published() == []


# --- the derived store's "stored before", from the events insert -------------------------------

# Keys the raw log can hold that capture never makes (uuids that are no uuid): the store must
# treat them as opaque. uuid columns hold 36 characters; PostgreSQL text holds no NUL.
opaque_uuids = st.one_of(
    st.uuids().map(str),
    st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=36),
    st.sampled_from(["😀", "/", "é", "e\u0301", " ", "É"]).map(lambda p: p * (36 // len(p))),
)
PROJECTS = ("A", "B")  # placeholders: each example stores under projects of its own


@st.composite
def hostile_slices(draw: st.DrawFn) -> list[list[RawEvent]]:
    """Slices of hostile raw events with duplicates within and across them, some uuids in
    both projects; some slices large enough for PostgreSQL's COPY path (STAGE_MIN_ROWS)."""
    kinds = draw(st.lists(capture_events(), min_size=1, max_size=4))
    keys = draw(st.lists(opaque_uuids, min_size=1, max_size=80, unique=True))
    raws = []
    for i, key in enumerate(keys):
        body = kinds[i % len(kinds)]
        raws.append(
            RawEvent(
                project_id=draw(st.sampled_from(PROJECTS)),
                uuid=key,
                event=stored_name(body["event"]),
                distinct_id=body["distinct_id"],
                timestamp=CAPTURED + timedelta(seconds=i),
                received_at=FIRST,
                source="capture",
                body=body,
            )
        )
    for twin in draw(st.lists(st.sampled_from(raws), max_size=5, unique_by=id)):
        other = PROJECTS[1] if twin.project_id == PROJECTS[0] else PROJECTS[0]
        raws.append(msgspec.structs.replace(twin, project_id=other))
    cuts = sorted(draw(st.lists(st.integers(0, len(raws)), max_size=3)))
    pieces = [raws[a:b] for a, b in zip([0, *cuts], [*cuts, len(raws)], strict=True)]
    again = draw(st.lists(st.sampled_from(raws), max_size=10))  # redelivered copies
    return [p + again[: len(p) % 4] for p in pieces if p] + [again]


def placed(slices: list[list[RawEvent]]) -> list[list[RawEvent]]:
    """The slices under two new projects."""
    ids = {placeholder: new_project_id() for placeholder in PROJECTS}
    return [
        [msgspec.structs.replace(e, project_id=ids[e.project_id]) for e in piece]
        for piece in slices
    ]


async def _stored_once(url: str, slices: list[list[RawEvent]]) -> None:
    async with sql(url) as (_log, store, engine):
        seen: set[tuple[str, str]] = set()
        active = 0  # new events that count toward an active day
        seq = 0
        for piece in slices:
            logged = [LoggedEvent(seq=seq + i + 1, raw=e) for i, e in enumerate(piece)]
            seq += len(piece)
            new = await store.apply(derive(logged, lambda _p: CONFIG), None)
            expected = []
            for e in piece:
                if (e.project_id, e.uuid) not in seen:
                    seen.add((e.project_id, e.uuid))
                    expected.append((e.project_id, e.uuid))
                    active += is_activity(normalize(e, CONFIG).kind)
            assert [(e.project_id, e.uuid) for e in new] == expected
        projects = {p for p, _ in seen}
        with engine.connect() as conn:
            rows = conn.execute(
                select(events.c.project_id, events.c.uuid).where(events.c.project_id.in_(projects))
            ).all()
            counted: Iterable[int] = conn.execute(
                select(counters.c.count).where(
                    counters.c.project_id.in_(projects), counters.c.key.startswith("day:")
                )
            ).scalars()
            assert sum(counted) == active  # every event counted once
        assert sorted((p, u) for p, u in rows) == sorted(seen)


@settings(max_examples=20, deadline=None, suppress_health_check=SLOW)
@given(slices=hostile_slices())
def test_hostile_slices_are_stored_once_and_their_duplicates_found(
    database_url: str, slices: list[list[RawEvent]]
) -> None:
    asyncio.run(_stored_once(database_url, placed(slices)))


@pytest.mark.parametrize("n", [1, STAGE_MIN_ROWS], ids=["unnest", "copy"])
async def test_a_key_longer_than_its_column_is_refused_never_cut(n: int) -> None:
    """PostgreSQL: the uuid column holds 36 characters. A longer key (no capture makes one;
    the store must not trust that) is refused on both paths of the bulk insert: cut, it
    would come back from RETURNING as another key and read as "stored before"."""
    events_in = [
        RawEvent(
            project_id="p1",
            uuid="é" * 37 if i == 0 else str(uuidlib.uuid4()),
            event="clicked",
            distinct_id="u1",
            timestamp=CAPTURED,
            received_at=FIRST,
            source="capture",
            body={"event": "clicked"},
        )
        for i in range(n)
    ]
    logged = [LoggedEvent(seq=i + 1, raw=e) for i, e in enumerate(events_in)]
    with backends.pg_schema_url() as url:
        async with sql(url) as (_log, store, engine):
            with pytest.raises((DataError, psycopg.DataError), match="too long"):
                await store.apply(derive(logged, lambda _p: CONFIG), None)
            with engine.connect() as conn:
                assert count_events(conn, "p1") == 0


@given(
    keys=st.sets(st.tuples(st.sampled_from(["p1", "p/2", "é"]), opaque_uuids), max_size=60),
    per=st.integers(1, 7),
)
def test_key_chunks_cover_every_key_once_within_the_bound(
    keys: set[tuple[str, str]], per: int
) -> None:
    chunks = list(project_chunks(keys, per))
    assert all(0 < len(uuids) <= per for _, uuids in chunks)
    covered = [(project_id, u) for project_id, uuids in chunks for u in uuids]
    assert sorted(covered) == sorted(keys)
    projects = [project_id for project_id, _ in chunks]
    assert projects == sorted(projects, key=projects.index)  # one run of chunks per project


async def test_as_logged_reads_every_copy_across_chunks_and_projects(database_url: str) -> None:
    """More keys than one statement reads (KEYS_PER_STATEMENT), in two projects that share
    uuids, some of them hostile; the retry's copies are received later and keyed otherwise."""
    hostile = ["😀" * 36, "/" * 36, "é" * 36, "e\u0301" * 18, "É" * 36, " x"]
    uuids = hostile + [str(uuidlib.uuid4()) for _ in range(KEYS_PER_STATEMENT + 100)]
    projects = [new_project_id(), new_project_id()]

    def attempt(received: datetime) -> list[RawEvent]:
        return [
            RawEvent(
                project_id=project_id,
                uuid=u,
                event="clicked",
                distinct_id="ünï/cødé",
                timestamp=received,
                received_at=received,
                source="capture",
                body={"event": "clicked", "properties": {"b": 1, "a": u}},
            )
            for project_id in projects
            for u in uuids
        ]

    async with sql(database_url) as (log, _store, _engine):
        first = attempt(FIRST)
        assert (await log.append(first)).accepted == len(first)
        retry = attempt(RETRY)
        assert await log.as_logged(retry) == first
