"""The relay in scale-out: two ingest processes on PostgreSQL + Redis proxy the SDK endpoints,
two workers share the relay (one at a time, by an advisory lock), and a worker killed with
SIGKILL mid-relay loses nothing: every accepted uuid reaches PostHog (a stand-in)."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests import backends
from tests.live import TOKEN, LiveServer, LiveWorker, wait_for
from tests.posthog_standin import FLAG_KEY, StandIn
from tests.upstream.conftest import RELAY_ENV


@pytest.fixture
def cluster(
    tmp_path: Path, posthog: StandIn
) -> Iterator[tuple[list[LiveServer], list[LiveWorker]]]:
    with backends.pg_schema_url() as db_url, backends.redis_prefix() as prefix:
        env = {
            **RELAY_ENV,
            "USERTRAIL_DATABASE_URL": db_url,
            "USERTRAIL_BUS_URL": backends.REDIS_URL,
            "USERTRAIL_BUS_PREFIX": prefix,
            "USERTRAIL_POSTHOG_HOST": posthog.url,
            "USERTRAIL_RELAY_BATCH_EVENTS": "40",
        }
        ingest = [
            LiveServer(tmp_path / f"ingest{i}", env=env, args=["--role", "ingest"]) for i in (0, 1)
        ]
        workers = [LiveWorker(tmp_path / f"worker{i}", env=env) for i in (0, 1)]
        try:
            ingest[0].start()  # the first creates the schema
            ingest[1].start()
            for worker in workers:
                worker.start()
            yield ingest, workers
        finally:
            for proc in [*ingest, *workers]:
                proc.stop()


def test_every_accepted_event_reaches_posthog_through_a_worker_kill(
    cluster: tuple[list[LiveServer], list[LiveWorker]], posthog: StandIn
) -> None:
    ingest, workers = cluster
    posthog.faults.delay_s = 0.2  # slow PostHog: the relay is mid-batch when a worker dies
    sent: list[str] = []
    for round_ in range(10):
        batch = [
            {
                "event": "feature_used",
                "distinct_id": f"user_{i % 9}",
                "uuid": str(uuid.uuid4()),
                "properties": {"round": round_},
            }
            for i in range(60)
        ]
        answer = httpx.post(
            f"{ingest[round_ % 2].url}/batch/", json={"api_key": TOKEN, "batch": batch}
        )
        assert answer.status_code == 200
        sent += [str(e["uuid"]) for e in batch]
        if round_ == 4:
            wait_for(lambda: len(posthog.uuids()) >= 40, 30, "relay under way")
            for worker in workers:  # whichever leads the relay dies
                worker.kill()
            workers[0].start()
    wait_for(lambda: set(sent) <= set(posthog.uuids()), 90, "every event at PostHog")
    counts = Counter(u for u in posthog.uuids() if u in set(sent))
    assert set(counts) == set(sent)  # repeats, if any, carry the same uuid
    # The ingest role proxies PostHog's flags too.
    flags = httpx.post(f"{ingest[1].url}/flags/?v=2", json={"token": TOKEN, "distinct_id": "u"})
    assert FLAG_KEY in flags.json()["flags"]
