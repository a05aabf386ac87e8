"""`usertrail serve --processes 2` on PostgreSQL without the bus: two servers append to one
raw log and their processor follows it by seq. Concurrent captures over new connections (the
kernel spreads them over both servers) must all be processed, exactly once: a seq committed
after a higher one was read would be passed by the processor for good (dialect.lock_raw_log).
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.backends import pg_schema_url
from tests.live import TOKEN, LiveServer
from tests.scale.test_scale_out import stored_uuids, wait_until_processed

SENDERS = 4
BATCHES = 40
BATCH = 10
# Ids a client may send (core.ids): `/`, non-ASCII, right-to-left marks, 200 characters.
IDS = ["team/acme/josé", "用户/42", "\u202eevil", "😀" * 100, "a//b", "x" * 200, "%00", "ß/İ"]


def send(url: str, sender: int) -> set[str]:
    """Batches as posthog-python posts them, each on a connection of its own."""
    sent: set[str] = set()
    for b in range(BATCHES):
        batch = [
            {
                "event": "$pageview",
                "distinct_id": IDS[(sender + i) % len(IDS)],
                "uuid": str(uuid.uuid4()),
                "properties": {"$current_url": f"https://a.io/p/{b}"},
            }
            for i in range(BATCH)
        ]
        response = httpx.post(f"{url}/batch/", json={"api_key": TOKEN, "batch": batch}, timeout=30)
        assert response.status_code == 200, response.text
        sent.update(str(event["uuid"]) for event in batch)
    return sent


def test_two_servers_appending_at_once_lose_no_event_to_the_processor(tmp_path: Path) -> None:
    with pg_schema_url() as url:
        env = {"USERTRAIL_DATABASE_URL": url, "USERTRAIL_DEMO": "0"}
        server = LiveServer(tmp_path / "data", env=env, args=["--processes", "2"])
        server.start()
        try:
            with ThreadPoolExecutor(SENDERS) as pool:
                sent = set().union(*pool.map(lambda s: send(server.url, s), range(SENDERS)))
            assert len(sent) == SENDERS * BATCHES * BATCH
            assert wait_until_processed(url, timeout=60) == len(sent)
            assert stored_uuids(url, "raw_events") == sent
            assert stored_uuids(url, "events") == sent  # each processed, none passed over
        finally:
            server.stop()
