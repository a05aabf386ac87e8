"""Embedded on two cores: `serve --role ingest` acks, `usertrail worker` processes."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from posthog import Posthog

from tests.live import API_KEY, TOKEN, LiveServer, wait_for
from tests.rawlog import raw_uuids

BILLING = {"$current_url": "https://app.acme.test/settings/billing"}


@contextmanager
def worker(server: LiveServer) -> Iterator[None]:
    """A `usertrail worker` on the server's data directory, for the block's duration."""
    process = subprocess.Popen(
        [sys.executable, "-m", "usertrail", "worker", "--data-dir", str(server.data_dir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        process.terminate()
        process.wait(10)


def read_context(server: LiveServer) -> httpx.Response:
    headers = {"Authorization": f"Bearer {API_KEY}"}
    return httpx.get(f"{server.url}/context/user/u1", headers=headers)


def readable(server: LiveServer) -> httpx.Response | None:
    response = read_context(server)
    return response if response.status_code == 200 else None


def processed_by(server: LiveServer) -> float:
    """The server's own count of events its processor stored (its /metrics)."""
    metrics = httpx.get(f"{server.url}/metrics").text
    found = re.search(r"^usertrail_events_processed_total (\S+)$", metrics, re.MULTILINE)
    assert found, "the processed-events counter is missing from /metrics"
    return float(found.group(1))


def test_a_separate_worker_process_makes_ingested_events_visible_in_context(
    tmp_path: Path,
) -> None:
    server = LiveServer(data_dir=tmp_path / "data", env={"USERTRAIL_ROLE": "ingest"}).start()
    try:
        with worker(server):
            Posthog(TOKEN, host=server.url, sync_mode=True).capture(
                "$pageview", distinct_id="u1", properties=BILLING
            )
            response = wait_for(lambda: readable(server), what="the worker to process the event")
        # A page named by its URL: quoted.
        assert response.json()["recent_events"][0]["label"] == "Viewed 'Billing'"
    finally:
        server.stop()


def test_ingest_role_alone_stores_raw_events_without_processing(tmp_path: Path) -> None:
    """The ack means the raw row is committed, and nothing in the server processes it.

    A 404 read right after the ack could be a slow processor as well as an absent one, so
    the test does not stop there: it starts a `usertrail worker` on the same data directory
    and waits until the very event is readable through the same server. By then a whole
    process has started, followed the log and stored the event; a processor inside the
    server (woken by its own commit, or polling every second) would have done so sooner. Its
    own /metrics still count no processed event: the worker did all the processing.
    """
    server = LiveServer(data_dir=tmp_path / "data", env={"USERTRAIL_ROLE": "ingest"}).start()
    try:
        client = Posthog(TOKEN, host=server.url, sync_mode=True)
        sent = client.capture("$pageview", distinct_id="u1", properties=BILLING)
        assert sent in raw_uuids(server.db_path)
        assert read_context(server).status_code == 404
        with worker(server):
            wait_for(lambda: readable(server), what="the worker to process the stored event")
        assert processed_by(server) == 0
    finally:
        server.stop()
