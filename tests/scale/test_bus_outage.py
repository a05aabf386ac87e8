"""Redis unreachable at ingest: capture answers 503 + Retry-After (never 429), the client's
retry after Redis is back is accepted, and the event is processed although its first
attempt was already committed to PostgreSQL (duplicates are published again)."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import httpx

from tests import backends
from tests.live import TOKEN, LiveServer, LiveWorker, free_port
from tests.scale.test_scale_out import stored_uuids


def send(url: str, event_uuid: str) -> httpx.Response:
    body = {
        "api_key": TOKEN,
        "batch": [
            {
                "event": "feature_used",
                "distinct_id": "retrying-user",
                "uuid": event_uuid,
                "properties": {"feature": "export"},
            }
        ],
    }
    return httpx.post(f"{url}/batch/", json=body, timeout=30)


def test_a_bus_outage_is_a_503_and_the_retry_is_processed(tmp_path: Path) -> None:
    with backends.pg_schema_url() as db_url, backends.redis_prefix() as prefix:
        env = {
            "USERTRAIL_DATABASE_URL": db_url,
            "USERTRAIL_BUS_PREFIX": prefix,
            "USERTRAIL_DEMO": "0",
        }
        dead_redis = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
        port = free_port()
        ingest = LiveServer(
            tmp_path / "ingest",
            port=port,
            env={**env, "USERTRAIL_BUS_URL": dead_redis},
            args=["--role", "ingest"],
        )
        event_uuid = str(uuid.uuid4())
        try:
            ingest.start(probe="/healthz")  # /readyz would (rightly) report the bus down
            assert httpx.get(f"{ingest.url}/readyz").status_code == 503
            refused = send(ingest.url, event_uuid)
            assert refused.status_code == 503
            assert int(refused.headers["Retry-After"]) >= 1
            assert event_uuid in stored_uuids(db_url, "raw_events")  # committed, not published
        finally:
            ingest.stop()

        live = {**env, "USERTRAIL_BUS_URL": backends.REDIS_URL}
        ingest = LiveServer(tmp_path / "ingest", port=port, env=live, args=["--role", "ingest"])
        worker = LiveWorker(tmp_path / "worker", env=live)
        try:
            ingest.start()
            worker.start()
            accepted = send(ingest.url, event_uuid)  # the SDK's retry of the same batch
            assert accepted.status_code == 200
            deadline = time.monotonic() + 20
            while event_uuid not in stored_uuids(db_url, "events"):
                assert time.monotonic() < deadline, "the retried event was never processed"
                time.sleep(0.1)
        finally:
            worker.stop()
            ingest.stop()
