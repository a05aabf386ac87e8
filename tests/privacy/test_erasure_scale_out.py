"""Erasure in scale-out: ingest, a worker and two context processes on PostgreSQL and Redis.

The DELETE goes to one context process; the other drops its hot copy through the change
notices; the worker (which owns the sink files) cuts the person's lines; events accepted
before the erasure but still on the bus are dropped when a worker gets to them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from posthog import Posthog

from tests import backends
from tests.live import TOKEN, LiveServer, LiveWorker
from tests.privacy.kit import AUTH, PROJECT_FILE, rows_mentioning, wait_until
from tests.receivers import webhook_inbox


@dataclass
class Cluster:
    ingest: LiveServer
    worker: LiveWorker
    contexts: tuple[LiveServer, LiveServer]
    env: dict[str, str]
    tmp: Path

    def posthog(self) -> Posthog:
        return Posthog(TOKEN, host=self.ingest.url, sync_mode=True)

    def status(self, context: int, user: str) -> int:
        url = f"{self.contexts[context].url}/context/user/{user}"
        return httpx.get(url, headers=AUTH).status_code

    def sink_lines(self) -> list[bytes]:
        path = self.worker.data_dir / "training_data.jsonl"
        return path.read_bytes().splitlines() if path.exists() else []


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    project_file = tmp_path / "project.yaml"
    with (
        webhook_inbox() as hooks,
        backends.scale_out_env(USERTRAIL_PROJECT_FILE=str(project_file)) as (_, env),
    ):
        project_file.write_text(PROJECT_FILE.format(hook=hooks.url))
        contexts = tuple(
            LiveServer(tmp_path / f"context{i}", env=env, args=["--role", "context"])
            for i in range(2)
        )
        cluster = Cluster(
            LiveServer(tmp_path / "ingest", env=env, args=["--role", "ingest"]),
            LiveWorker(tmp_path / "worker", env=env),
            (contexts[0], contexts[1]),
            env,
            tmp_path,
        )
        try:
            for process in (cluster.ingest, cluster.worker, *cluster.contexts):
                process.start()
            yield cluster
        finally:  # the test may have replaced the worker: stop the current one
            for process in (cluster.ingest, cluster.worker, *cluster.contexts):
                process.stop()


def test_an_erasure_reaches_every_process_and_the_worker_cuts_the_sink_lines(
    cluster: Cluster,
) -> None:
    client = cluster.posthog()
    client.capture("$pageview", distinct_id="gus", properties={"$current_url": "/billing"})
    client.capture("generation_failed", distinct_id="gus", properties={"input_prompt": "gus's"})
    client.capture("generation_failed", distinct_id="ivy", properties={"input_prompt": "ivy's"})
    wait_until(lambda: len(cluster.sink_lines()) == 2, what="the sink lines")
    wait_until(lambda: cluster.status(1, "gus") == 200)  # now hot in the second process

    erased = httpx.delete(f"{cluster.contexts[0].url}/persons/gus", headers=AUTH, timeout=30)

    assert erased.status_code == 200
    assert erased.json()["sink_files"] == "purged"  # by the worker, before the answer
    assert [b"gus's" in line for line in cluster.sink_lines()] == [False]
    wait_until(lambda: cluster.status(1, "gus") == 404, timeout=5, what="the change notice")


def test_events_in_flight_on_the_bus_do_not_bring_an_erased_person_back(
    cluster: Cluster,
) -> None:
    client = cluster.posthog()
    client.capture("$pageview", distinct_id="hal", properties={"$current_url": "/billing"})
    wait_until(lambda: cluster.status(0, "hal") == 200)
    cluster.worker.stop()  # what is accepted now waits on the bus
    client.capture("$pageview", distinct_id="hal", properties={"$current_url": "/in-flight"})

    erased = httpx.delete(f"{cluster.contexts[0].url}/persons/hal", headers=AUTH, timeout=30)
    cluster.worker = LiveWorker(cluster.tmp / "worker", env=cluster.env).start()

    assert erased.json()["deleted"]["raw_events"] == 2  # the one in flight included
    client.capture("$pageview", distinct_id="sentinel", properties={"$current_url": "/after"})
    wait_until(lambda: cluster.status(0, "sentinel") == 200, what="the worker to catch up")
    assert cluster.status(0, "hal") == 404
    assert rows_mentioning(cluster.env["USERTRAIL_DATABASE_URL"], "hal") == []
