"""Capture under overload: a real server whose SQLite writer is blocked by a real lock.

Past `max_pending_appends` requests waiting for a commit, capture answers 503 + Retry-After at
once (never 429, which posthog-js drops), stores nothing for them, and recovers on its own
once the lock is gone.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.live import TOKEN, WEBHOOK_SECRET, LiveServer
from tests.rawlog import raw_uuids

PENDING = 4


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    env = {
        "USERTRAIL_MAX_PENDING_APPENDS": str(PENDING),
        "USERTRAIL_APPEND_TIMEOUT_S": "30",  # the admitted requests wait out the lock
        "USERTRAIL_DEMO": "0",
    }
    live = LiveServer(data_dir=tmp_path / "data", env=env).start()
    yield live
    live.stop()


def batch(event_uuid: str) -> dict[str, object]:
    event = {"event": "clicked", "distinct_id": "u1", "uuid": event_uuid}
    return {"api_key": TOKEN, "batch": [event]}


async def overload(server: LiveServer) -> None:
    blocker = sqlite3.connect(server.db_path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
    admitted = [str(uuid.uuid4()) for _ in range(PENDING)]
    refused = [str(uuid.uuid4()) for _ in range(20)]
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        waiting = [asyncio.create_task(client.post("/batch/", json=batch(u))) for u in admitted]
        await asyncio.sleep(1.0)  # they are decoded and queued for the writer by now
        assert not any(task.done() for task in waiting)

        for u in refused:
            started = time.monotonic()
            answer = await client.post("/batch/", json=batch(u))
            assert time.monotonic() - started < 1.0, "refused at once, not queued"
            assert answer.status_code == 503, answer.text
            assert int(answer.headers["retry-after"]) >= 1
            assert answer.json()["code"] == "overloaded"
        webhook = await client.post(
            "/webhooks/posthog",
            json={"event": {"event": "e", "distinct_id": "u1"}},
            headers={"Authorization": f"Bearer {WEBHOOK_SECRET}"},
        )
        assert webhook.status_code == 503  # the webhook shares the bound
        assert (await client.get("/healthz")).status_code == 200  # the server itself is fine

        blocker.execute("ROLLBACK")
        blocker.close()
        assert [(await task).status_code for task in waiting] == [200] * PENDING
        after = str(uuid.uuid4())
        assert (await client.post("/batch/", json=batch(after))).status_code == 200

    assert raw_uuids(server.db_path) == {*admitted, after}  # nothing stored for the 503s


def test_capture_past_the_pending_bound_gets_a_quick_503_and_recovers(
    server: LiveServer,
) -> None:
    asyncio.run(overload(server))


def test_overload_never_answers_429(server: LiveServer) -> None:
    """Many clients at once against a locked database: only 200s (later) and 503s."""

    async def flood() -> list[int]:
        blocker = sqlite3.connect(server.db_path, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        limits = httpx.Limits(max_connections=64)
        async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=limits) as client:
            sends = [client.post("/batch/", json=batch(str(uuid.uuid4()))) for _ in range(200)]
            tasks = [asyncio.ensure_future(send) for send in sends]
            await asyncio.sleep(1.5)
            blocker.execute("ROLLBACK")
            blocker.close()
            return [(await task).status_code for task in tasks]

    statuses = asyncio.run(flood())
    assert set(statuses) == {200, 503}
    assert statuses.count(200) >= PENDING
