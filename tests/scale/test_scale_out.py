"""Scale-out end to end: 2 ingest + 2 workers + 1 context process on PostgreSQL and Redis.

The real posthog-python SDK streams events while a worker and an ingest process are killed
with SIGKILL and restarted. Every acknowledged event must be stored and processed exactly
once, the bus must drain, and the context must equal what the embedded mode computes from
the same raw events.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from posthog import Posthog
from sqlalchemy import create_engine, text

from tests import backends
from tests.live import API_KEY, TOKEN, LiveServer, LiveWorker
from usertrail.adapters.redis_bus import RedisStreamBus
from usertrail.core.context.build import ContextOptions
from usertrail.settings import Settings
from usertrail.wiring import build_runtime

USERS = 24
EVENTS = 900


@dataclass
class Cluster:
    env: dict[str, str]
    database_url: str
    ingest: list[LiveServer] = field(default_factory=list)
    workers: list[LiveWorker] = field(default_factory=list)
    context: LiveServer | None = None

    def stop(self) -> None:
        for proc in [*self.ingest, *self.workers, self.context]:
            if proc is not None:
                proc.stop()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    with backends.scale_out_env(USERTRAIL_BUS_RECLAIM_IDLE_MS="1000") as (db_url, env):
        cluster = Cluster(env, db_url)
        try:
            # The first process creates the schema and the project; the others find them.
            first = LiveServer(tmp_path / "ingest0", env=env, args=["--role", "ingest"])
            cluster.ingest.append(first.start())
            second = LiveServer(tmp_path / "ingest1", env=env, args=["--role", "ingest"])
            cluster.ingest.append(second.start())
            for i in range(2):
                cluster.workers.append(LiveWorker(tmp_path / f"worker{i}", env=env).start())
            ctx = LiveServer(tmp_path / "context", env=env, args=["--role", "context"])
            cluster.context = ctx.start()
            yield cluster
        finally:
            cluster.stop()


class Sender:
    """One posthog-python client per ingest process; remembers what was acknowledged."""

    def __init__(self, hosts: list[str]) -> None:
        self.sent: set[str] = set()
        self.failed: set[str] = set()
        self._lock = threading.Lock()
        self.clients = [
            Posthog(
                TOKEN,
                host=host,
                flush_at=10,
                flush_interval=0.05,
                max_retries=6,
                on_error=self._on_error,
            )
            for host in hosts
        ]

    def _on_error(self, _error: Exception, batch: list[dict[str, Any]]) -> None:
        with self._lock:
            self.failed.update(str(item["uuid"]) for item in batch)

    def capture(self, i: int, event: str, distinct_id: str, **props: Any) -> None:
        uuid = self.clients[i % len(self.clients)].capture(
            event, distinct_id=distinct_id, properties=props
        )
        assert uuid is not None
        self.sent.add(uuid)

    def close(self) -> set[str]:
        for client in self.clients:
            client.flush()
            client.shutdown()
        return self.sent - self.failed


def visit(sender: Sender, i: int, users: int, login_step: int) -> None:
    """Event `i` of a stream over `users` users: anonymous pageviews until `login_step`, the
    login (`$identify`) then, feature use after."""
    user, step = i % users, i // users
    anon, known = f"anon-{user}", f"user-{user}"
    if step == login_step:
        sender.capture(i, "$identify", known, **{"$anon_distinct_id": anon})
    elif step < login_step:
        sender.capture(i, "$pageview", anon, **{"$current_url": f"https://a.io/p/{step % 4}"})
    else:
        sender.capture(i, "feature_used", known, feature="export")


def stream(sender: Sender, cluster: Cluster) -> None:
    """Anonymous visits, a login (`$identify`) halfway, feature use; chaos in the middle."""
    for i in range(EVENTS):
        visit(sender, i, USERS, login_step=12)
        if i == 250:
            cluster.workers[0].kill()
        if i == 350:
            cluster.ingest[0].kill()
        if i == 500:
            cluster.ingest[0].start()  # same port: the SDK's retries find it again
            cluster.workers[0].start()
        time.sleep(0.003)


def db_counts(url: str) -> tuple[int, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            raw: int = conn.execute(text("SELECT count(*) FROM raw_events")).scalar_one()
            derived: int = conn.execute(text("SELECT count(*) FROM events")).scalar_one()
        return int(raw), int(derived)
    finally:
        engine.dispose()


def stored_uuids(url: str, table: str) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {r[0] for r in conn.execute(text(f"SELECT uuid FROM {table}"))}
    finally:
        engine.dispose()


def wait_until_processed(url: str, timeout: float = 90) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        raw, derived = db_counts(url)
        if raw and raw == derived:
            return raw
        time.sleep(0.2)
    raise AssertionError(f"not all raw events were processed: {db_counts(url)}")


async def bus_state(prefix: str) -> tuple[int, int]:
    """(entries not yet acked, dead letters), once the workers have caught up."""
    bus = RedisStreamBus(backends.REDIS_URL, prefix=prefix)
    try:
        for _ in range(150):  # up to 30 s
            if not (backlog := await bus.backlog()):
                break
            await asyncio.sleep(0.2)
        return backlog, len(await bus.dead_letters())
    finally:
        await bus.aclose()


async def embedded_contexts(url: str, tmp: Path, users: list[str]) -> dict[str, Any]:
    """The same raw events, replayed through the embedded deployment (SQLite, raw log)."""
    source = build_runtime(Settings(database_url=url, data_dir=tmp / "read", demo=False))
    embedded = build_runtime(Settings(data_dir=tmp / "embedded", demo=False))
    try:
        seq = 0
        while batch := await source.event_log.read_after(seq, 5000):
            await embedded.event_log.append([item.raw for item in batch])
            seq = batch[-1].seq
        await embedded.processor.drain()
        project = embedded.default_project
        # The bytes GET /context/user/{id} answers with (the JSON, without the prompt block).
        return {
            user: orjson.loads(
                (await embedded.context.rendered(project, user, ContextOptions())).json
            )
            for user in users
        }
    finally:
        await source.close()
        await embedded.close()


def assert_served(url: str, expected: dict[str, Any]) -> None:
    """GET /context/user/{id} on the server at `url` answers each user's expected context
    (all but its `generated_at`)."""
    for user, want in expected.items():
        response = httpx.get(
            f"{url}/context/user/{user}", headers={"Authorization": f"Bearer {API_KEY}"}
        )
        assert response.status_code == 200, response.text
        got, want = response.json(), dict(want)
        got.pop("generated_at"), want.pop("generated_at")
        assert got == want, user


def test_kill_9_mid_stream_loses_nothing_and_matches_embedded(
    cluster: Cluster, tmp_path: Path
) -> None:
    sender = Sender([server.url for server in cluster.ingest])
    stream(sender, cluster)
    acknowledged = sender.close()
    assert len(acknowledged) >= EVENTS * 0.9  # the SDK's retries got nearly all through

    stored = wait_until_processed(cluster.database_url)
    raw_uuids = stored_uuids(cluster.database_url, "raw_events")
    assert acknowledged <= raw_uuids  # nothing acknowledged was lost
    assert stored == len(raw_uuids)  # and nothing was stored twice
    assert stored_uuids(cluster.database_url, "events") == raw_uuids
    assert asyncio.run(bus_state(cluster.env["USERTRAIL_BUS_PREFIX"])) == (0, 0)

    assert cluster.context is not None
    users = [f"user-{u}" for u in range(0, USERS, 5)]
    expected = asyncio.run(embedded_contexts(cluster.database_url, tmp_path, users))
    assert_served(cluster.context.url, expected)

    # The context process caches contexts; a worker's change notice must drop the stale one
    # (long before the cache's 60 s TTL would).
    late = Posthog(TOKEN, host=cluster.ingest[1].url, sync_mode=True)
    late.capture("plan_selected", distinct_id="user-0", properties={"plan": "pro"})
    assert wait_for_label(cluster.context.url, "user-0", "plan selected", timeout=10)


def wait_for_label(url: str, user: str, text: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = httpx.get(
            f"{url}/context/user/{user}", headers={"Authorization": f"Bearer {API_KEY}"}
        )
        if any(text in e["label"].lower() for e in response.json()["recent_events"]):
            return True
        time.sleep(0.1)
    return False
