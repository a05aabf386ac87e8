"""Two `usertrail serve`s on one data directory, on two ports (not `--processes N`).

The second is ready at once and serves capture and context; its processor stands by (its
/readyz says so, naming the first server's pid) while the first's processes what both
capture. Its reads are fresh though the first's processor tells it nothing: it caches no
context meanwhile, and its live streams wake on every slice the other stores. posthog-python
streams to both, and threads post batches to both at once (Burst), while the first is
SIGKILLed (the second's processor takes over, in the same process) and started again (now
it stands by): an erasure through either server is gone from the other's reads within
seconds (the first caches, well within its 60 s TTL); every acknowledged event is stored, every
stored one processed exactly once, and both serve the contexts of one clean pass. On SQLite
and on PostgreSQL without the bus (the same lock in the data directory keeps one processor;
there both servers' raw-log appends commit in seq order, dialect.lock_raw_log, or the
processor would pass by the ones that commit late).
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from posthog import Posthog

from tests.live import API_KEY, TOKEN, LiveServer, wait_for
from tests.scale.test_scale_out import (
    Sender,
    embedded_contexts,
    stored_uuids,
    visit,
    wait_until_processed,
)
from tests.scale.test_serve_processes import child_of, children

USERS = 8
EVENTS = 400
HEADERS = {"Authorization": f"Bearer {API_KEY}"}
# Ids the lock, the notices and the uncached reads must not trip on: non-ASCII, `/`, `%`,
# spaces, the longest allowed (NUL is refused at capture: tests/web).
HOSTILE = ["ünï/çødé 用户", "/" + "ß" * 150 + "/%2F x", "y" * 200]
# The burst's: `/`, right-to-left marks, emoji to the limit, `%00` as text.
BURST_IDS = ["team/acme/josé", "用户/42", "\u202eevil", "😀" * 200, "a//b", "%00/ü"]
BURSTERS = 4  # threads posting batches at once
# SQLite has one writer: unpaced, the burst kept a restarted server's processor from its
# startup write ("database is locked") for 20 s. Its appends need no order lock anyway.
BURST_PAUSE_SQLITE_S = 0.05
BATCH = 10
PER_SERVER = 60  # events each server captures in the in-process processors' test
PROCESSED = "usertrail_events_processed_total "  # a server's own processor's count


def readyz(server: LiveServer) -> dict[str, Any]:
    response = httpx.get(f"{server.url}/readyz", timeout=5)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def context(server: LiveServer, user: str) -> dict[str, Any] | None:
    response = httpx.get(f"{server.url}/context/user/{quote(user, safe='')}", headers=HEADERS)
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def without_time(ctx: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in ctx.items() if key != "generated_at"}


def mentions(ctx: dict[str, Any] | None, text: str) -> bool:
    """Whether one of the context's recent events is labelled with `text`."""
    return any(text in e["label"].lower() for e in ctx["recent_events"]) if ctx else False


def shows(server: LiveServer, user: str, text: str, timeout: float = 5) -> bool:
    """Well within the context cache's 60 s TTL: a stale cached context fails it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if mentions(context(server, user), text):
            return True
        time.sleep(0.05)
    return False


def stream_contexts(server: LiveServer, user: str) -> queue.Queue[dict[str, Any]]:
    """The `context` events of GET /context/user/{id}/stream, read by a thread."""
    import orjson

    pushed: queue.Queue[dict[str, Any]] = queue.Queue()
    url = f"{server.url}/context/user/{quote(user, safe='')}/stream"

    def read() -> None:
        with (
            contextlib.suppress(httpx.TransportError),  # the server stops at the end
            httpx.stream("GET", url, headers=HEADERS, timeout=None) as response,
        ):
            for line in response.iter_lines():
                if line.startswith("data: "):
                    pushed.put(orjson.loads(line[6:]))

    threading.Thread(target=read, daemon=True).start()
    return pushed


@pytest.mark.timeout(240)  # a loaded machine: the burst's thousands of events to process
def test_a_second_serve_on_the_data_is_ready_stands_by_and_takes_over(
    tmp_path: Path, backend: tuple[str, dict[str, str]]
) -> None:
    url, env = backend
    data = tmp_path / "dätä dir"
    first = LiveServer(data, env=env, log_name="first.log")
    second = LiveServer(data, env=env, log_name="second.log")
    try:
        first.start()
        second.start()  # ready, though the first's processor holds the database
        assert first.proc is not None
        assert readyz(first) == {"status": "ready"}
        standing = readyz(second)
        assert standing["processor"] == "standby"
        assert f"pid {first.proc.pid}" in standing["detail"]
        assert "processor_standing_by" in second.log_path.read_text()

        reads_are_fresh_while_standing_by(first, second)
        pause = 0.0 if url.startswith("postgresql") else BURST_PAUSE_SQLITE_S
        acknowledged, burst = stream_while_the_first_dies(first, second, pause)
        assert len(acknowledged) >= EVENTS * 0.8  # the SDK's retries got most through
        assert len(burst) >= 50 * BATCH  # two servers appending at once, for seconds
        acknowledged |= burst

        stored = wait_until_processed(url, timeout=45)  # a passed-by event: never
        raw = stored_uuids(url, "raw_events")
        assert acknowledged <= raw  # nothing acknowledged was lost
        assert stored == len(raw)  # nothing stored twice
        assert stored_uuids(url, "events") == raw  # every stored event processed

        users = [*(f"user-{u}" for u in range(0, USERS, 3)), *HOSTILE, *BURST_IDS]
        expected = asyncio.run(embedded_contexts(url, tmp_path, users))
        for server in (first, second):
            for user, want in expected.items():
                got = context(server, user)
                assert got is not None, user
                assert without_time(got) == without_time(want), user

        # Roles swapped: the first (standing by now) reads what the second's processor stores.
        on_second = Posthog(TOKEN, host=second.url, sync_mode=True)
        on_second.capture("report_exported", distinct_id="user-0", properties={"rows": 3})
        assert shows(first, "user-0", "report exported")
    finally:
        second.stop()
        first.stop()


def reads_are_fresh_while_standing_by(first: LiveServer, second: LiveServer) -> None:
    """Captured on the second, processed by the first's processor, read fresh on both."""
    on_second = Posthog(TOKEN, host=second.url, sync_mode=True)
    on_first = Posthog(TOKEN, host=first.url, sync_mode=True)
    for user in HOSTILE:
        on_second.capture("$pageview", distinct_id=user, properties={"$current_url": "/a"})
    for user in HOSTILE:
        for server in (first, second):
            assert wait_for(partial(context, server, user), timeout=5)
    # Read on the second just now (it would be cached): an event the first captures shows
    # there too, at once, and its live stream pushes it.
    pushed = stream_contexts(second, HOSTILE[0])
    assert not mentions(pushed.get(timeout=10), "plan selected")
    for user in HOSTILE:
        on_first.capture("plan_selected", distinct_id=user, properties={"plan": "pro"})
    for user in HOSTILE:
        assert shows(second, user, "plan selected"), user
    assert mentions(pushed.get(timeout=10), "plan selected")

    # An erasure through the first moves no cursor: the second, which hears nothing from the
    # first's processor, must not answer from a cached context (its TTL is 60 s).
    erased = "erased/ü " + "z" * 150
    on_second.capture("$pageview", distinct_id=erased, properties={"$current_url": "/b"})
    assert wait_for(lambda: context(second, erased), timeout=5)
    assert context(second, erased) is not None  # read twice: cached, were it cached
    path = f"/persons/{quote(erased, safe='')}"
    assert httpx.delete(f"{first.url}{path}", headers=HEADERS).status_code == 200
    assert context(first, erased) is None
    assert context(second, erased) is None

    # And through the second: its processor, standing by, tells the first's servers nothing,
    # and the first caches. Its processor watches the tombstones: gone in about a second, not
    # at the cache's TTL (60 s).
    erased_too = "erased/用户 " + "q" * 150
    on_first.capture("$pageview", distinct_id=erased_too, properties={"$current_url": "/c"})
    assert wait_for(lambda: context(first, erased_too), timeout=5)
    assert context(first, erased_too) is not None  # read twice: cached now
    path = f"/persons/{quote(erased_too, safe='')}"
    assert httpx.delete(f"{second.url}{path}", headers=HEADERS).status_code == 200
    assert context(second, erased_too) is None
    assert wait_for(lambda: context(first, erased_too) is None, timeout=5)


def stream_while_the_first_dies(
    first: LiveServer, second: LiveServer, pause_s: float
) -> tuple[set[str], set[str]]:
    """posthog-python to both, and a burst of batches to both; the first SIGKILLed (the
    second's processor takes over, in the same process) and started again (it stands by).
    Returns what posthog-python and what the burst had acknowledged."""
    assert second.proc is not None
    standby = child_of(second, "worker")
    sender = Sender([first.url, second.url])
    burst = Burst([first.url, second.url], pause_s)
    try:
        for i in range(EVENTS):
            visit(sender, i, USERS, login_step=15)
            if i == 150:
                first.kill()  # its processor ends with it: the second's takes the lock
                wait_for(lambda: "processor" not in readyz(second), what="the takeover")
                assert child_of(second, "worker") == standby
            if i == 250:
                first.start()  # same port and data: now the first stands by
                assert f"pid {second.proc.pid}" in readyz(first)["detail"]
            time.sleep(0.003)
    finally:
        burst_acknowledged = burst.close()
    return sender.close(), burst_acknowledged


class Burst:
    """Threads posting batches to both servers in turn, as fast as they are answered: two
    servers' raw-log appends at once, which PostgreSQL would commit out of seq order but for
    its lock (the processor, following the log by seq, would pass the late ones by). A batch
    not acknowledged (its server is down, or busy) goes again, same uuids, to the other."""

    def __init__(self, urls: list[str], pause_s: float) -> None:
        self.urls = urls
        self.pause_s = pause_s
        self.acknowledged: set[str] = set()
        self.unanswered = 0  # batches no server acknowledged within 30 s
        self._last = datetime.now(UTC)
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(n,)) for n in range(BURSTERS)]
        for thread in self._threads:
            thread.start()

    def _now(self) -> str:
        """A time no other event of the burst has: as an SDK stamps its events, so that the
        order of a person's events is their time's (uuid4s would break ties at random)."""
        with self._lock:
            self._last = max(datetime.now(UTC), self._last + timedelta(microseconds=1))
            return self._last.isoformat()

    def _run(self, turn: int) -> None:
        with httpx.Client(timeout=10) as client:
            while not self._done.is_set():
                batch = [
                    {
                        "event": "feature_used" if i % 3 else "$pageview",
                        "distinct_id": BURST_IDS[(turn + i) % len(BURST_IDS)],
                        "uuid": str(uuid.uuid4()),
                        "timestamp": self._now(),
                        "properties": {"$current_url": f"https://a.io/b/{turn % 7}", "n": i},
                    }
                    for i in range(BATCH)
                ]
                acked = self._send(client, turn, batch)
                time.sleep(self.pause_s)
                turn += 1
                with self._lock:
                    if acked:
                        self.acknowledged.update(str(event["uuid"]) for event in batch)
                    else:
                        self.unanswered += 1

    def _send(self, client: httpx.Client, turn: int, batch: list[dict[str, Any]]) -> bool:
        body = {"api_key": TOKEN, "batch": batch}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            url = self.urls[turn % len(self.urls)]
            with contextlib.suppress(httpx.TransportError):
                if client.post(f"{url}/batch/", json=body).status_code == 200:
                    return True
            turn += 1
            time.sleep(0.02)
        return False

    def close(self) -> set[str]:
        self._done.set()
        for thread in self._threads:
            thread.join(60)
            assert not thread.is_alive()
        assert not self.unanswered, f"{self.unanswered} batches were never acknowledged"
        return self.acknowledged


@pytest.mark.timeout(90)
def test_an_in_process_processor_takes_the_same_lock_stands_by_and_takes_over(
    tmp_path: Path, backend: tuple[str, dict[str, str]]
) -> None:
    """USERTRAIL_PROCESSOR_PROCESS=0: each `serve`'s processor in its own process. The
    second's stands by (and says so) while the first's processes what both capture; the
    first SIGKILLed, the second's takes over. Each event processed once, by one of them."""
    url, env = backend
    env = {**env, "USERTRAIL_PROCESSOR_PROCESS": "0"}
    data = tmp_path / "dätä dir"
    first = LiveServer(data, env=env, log_name="first.log").start()
    second = LiveServer(data, env=env, log_name="second.log").start()
    try:
        assert first.proc is not None
        assert not children(first.proc.pid)  # no processor process: in the server's
        assert readyz(first) == {"status": "ready"}
        standing = readyz(second)
        assert standing["processor"] == "standby"
        assert f"pid {first.proc.pid}" in standing["detail"]

        sent = captured(first, 0) | captured(second, 1)
        wait_until_processed(url, timeout=30)
        assert (processed(first), processed(second)) == (2 * PER_SERVER, 0)

        first.kill()
        wait_for(lambda: "processor" not in readyz(second), what="the takeover")
        sent |= captured(second, 2)
        stored = wait_until_processed(url, timeout=30)
        assert processed(second) == PER_SERVER
        assert stored_uuids(url, "raw_events") == sent
        assert stored == len(sent)
        assert stored_uuids(url, "events") == sent  # each processed, once
    finally:
        second.stop()
        first.stop()


def captured(server: LiveServer, turn: int) -> set[str]:
    """PER_SERVER events of hostile ids in batches, all acknowledged; their uuids."""
    uuids: set[str] = set()
    for start in range(0, PER_SERVER, BATCH):
        batch = [
            {
                "event": "$pageview",
                "distinct_id": (HOSTILE + BURST_IDS)[(turn + i) % 9],
                "uuid": str(uuid.uuid4()),
                "properties": {"$current_url": f"https://a.io/{turn}/{start + i}"},
            }
            for i in range(BATCH)
        ]
        answer = httpx.post(f"{server.url}/batch/", json={"api_key": TOKEN, "batch": batch})
        assert answer.status_code == 200, answer.text
        uuids |= {str(event["uuid"]) for event in batch}
    return uuids


def processed(server: LiveServer) -> float:
    """Events this server's own processor stored (its in-process counter)."""
    text = httpx.get(f"{server.url}/metrics", timeout=5).text
    [value] = [line.split()[1] for line in text.splitlines() if line.startswith(PROCESSED)]
    return float(value)
