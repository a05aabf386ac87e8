"""Embedded on two cores: `serve --role ingest` acks, `usertrail worker` processes."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
from posthog import Posthog

from tests.live import API_KEY, TOKEN, LiveServer


def test_a_separate_worker_process_makes_ingested_events_visible_in_context(
    tmp_path: Path,
) -> None:
    server = LiveServer(data_dir=tmp_path / "data", env={"USERTRAIL_ROLE": "ingest"}).start()
    worker = subprocess.Popen(
        [sys.executable, "-m", "usertrail", "worker", "--data-dir", str(server.data_dir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        Posthog(TOKEN, host=server.url, sync_mode=True).capture(
            "$pageview",
            distinct_id="u1",
            properties={"$current_url": "https://app.acme.test/settings/billing"},
        )
        deadline, status = time.monotonic() + 10, 0
        while status != 200 and time.monotonic() < deadline:
            response = httpx.get(
                f"{server.url}/context/user/u1", headers={"Authorization": f"Bearer {API_KEY}"}
            )
            status = response.status_code
            time.sleep(0.05)
        assert (
            response.json()["recent_events"][0]["label"] == "Viewed 'Billing'"
        )  # a page named by its URL: quoted
    finally:
        worker.terminate()
        worker.wait(10)
        server.stop()


def test_ingest_role_alone_stores_raw_events_without_processing(tmp_path: Path) -> None:
    server = LiveServer(data_dir=tmp_path / "data", env={"USERTRAIL_ROLE": "ingest"}).start()
    try:
        Posthog(TOKEN, host=server.url, sync_mode=True).capture("$pageview", distinct_id="u1")
        time.sleep(1.2)  # longer than the processor's idle poll, were it running
        response = httpx.get(
            f"{server.url}/context/user/u1", headers={"Authorization": f"Bearer {API_KEY}"}
        )
        assert response.status_code == 404
    finally:
        server.stop()
