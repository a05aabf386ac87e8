"""Scale-out change notices carry the new events: a context process advances a cached
context with a worker's events (no PostgreSQL read), and gets what a cold rebuild gives.

Real processes on PostgreSQL and Redis: `serve --role ingest`, `usertrail worker`, `serve
--role context`; the context process's /metrics says where each read's answer came from.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from tests import backends
from tests.live import API_KEY, TOKEN, LiveServer, LiveWorker, wait_for
from tests.scale.test_scale_out import db_counts
from usertrail.core.context.build import ContextOptions
from usertrail.settings import Settings
from usertrail.wiring import build_runtime

USER = "ünï/cødé \u202e匿名"  # non-ASCII, a slash, a bidi override
ANON = "anon-ünï"


class Deployment:
    def __init__(self, tmp: Path, env: dict[str, str], database_url: str) -> None:
        self.database_url = database_url
        self.tmp = tmp
        self.ingest = LiveServer(tmp / "ingest", env=env, args=["--role", "ingest"]).start()
        self.worker = LiveWorker(tmp / "worker", env=env).start()
        self.context = LiveServer(tmp / "context", env=env, args=["--role", "context"]).start()
        self.sent = 0

    def stop(self) -> None:
        for proc in (self.context, self.worker, self.ingest):
            proc.stop()

    def capture(self, event: str, distinct_id: str, **props: Any) -> None:
        """One event through the real capture endpoint, then until a worker stored it."""
        self.sent += 1
        body = {
            "api_key": TOKEN,
            "event": event,
            "distinct_id": distinct_id,
            "properties": {"$current_url": "https://a.io/p", **props},
            "timestamp": f"2026-12-0{1 + self.sent // 50}T10:{self.sent % 50:02d}:00Z",
        }
        assert httpx.post(f"{self.ingest.url}/i/v0/e/", json=body).status_code == 200
        wait_for(lambda: db_counts(self.database_url) == (self.sent,) * 2, 30, "processing")

    def read(self) -> dict[str, Any]:
        response = httpx.get(
            f"{self.context.url}/context/user/{USER}",
            headers={"Authorization": f"Bearer {API_KEY}"},
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    def reads(self) -> dict[str, float]:
        """The context process's reads by source: cache, advanced, store."""
        text = httpx.get(f"{self.context.url}/metrics").text
        found = re.findall(r'^usertrail_context_reads_total\{source="(\w+)"\} (\S+)$', text, re.M)
        return {source: float(value) for source, value in found}

    def read_when(self, label: str) -> dict[str, Any]:
        """The context once a worker's notice brought the event labelled `label`."""

        def shows() -> dict[str, Any] | None:
            ctx = self.read()
            return ctx if any(label in e["label"] for e in ctx["recent_events"]) else None

        return wait_for(shows, 10, f"{label!r} in the context")

    def cold(self) -> dict[str, Any]:
        """The same context built from PostgreSQL by a process with nothing cached."""
        return asyncio.run(_cold(self.database_url, self.tmp / "cold"))


async def _cold(url: str, data_dir: Path) -> dict[str, Any]:
    runtime = build_runtime(Settings(database_url=url, data_dir=data_dir, demo=False))
    try:
        rendered = await runtime.context.rendered(runtime.default_project, USER, ContextOptions())
        return dict(orjson.loads(rendered.json))
    finally:
        await runtime.close()


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    with backends.scale_out_env() as (db_url, env):
        deployment = Deployment(tmp_path, env, db_url)
        try:
            yield deployment
        finally:
            deployment.stop()


def same(got: dict[str, Any], want: dict[str, Any]) -> bool:
    got, want = dict(got), dict(want)
    got.pop("generated_at"), want.pop("generated_at")
    return got == want


def test_a_worker_s_new_events_advance_a_cached_context_to_what_a_rebuild_gives(
    deployment: Deployment,
) -> None:
    for i in range(3):
        deployment.capture("$pageview", USER, **{"$current_url": f"https://a.io/p/{i}"})
    first = deployment.read()
    assert deployment.reads().get("store") == 1
    for i in range(4):
        props = {"feature": f"Export {i} \u202e", "huge": 10**30, "nul": "a\x00b"}
        deployment.capture("feature_used", USER, **props)
        advanced = deployment.read_when(f"Export {i}")
        assert same(advanced, deployment.cold())
    reads = deployment.reads()
    assert reads["store"] == 1  # no read after the first went to PostgreSQL
    assert reads["advanced"] == 4  # each new event: one build from advanced inputs
    assert not same(first, advanced)


def test_a_merge_in_a_worker_drops_the_cached_context(deployment: Deployment) -> None:
    deployment.capture("$pageview", ANON)
    deployment.capture("$pageview", USER)
    deployment.read()
    deployment.capture("$identify", USER, **{"$anon_distinct_id": ANON})
    merged = wait_for(lambda: (c := deployment.read())["user"]["distinct_ids"][1:] and c, 10)
    assert len(merged["user"]["distinct_ids"]) == 2  # (shown quoted as data: rule 6)
    assert same(merged, deployment.cold())
    reads = deployment.reads()
    assert reads["store"] == 2  # the first read, and the one after the merge's notice
    assert reads["advanced"] == 0
