"""`serve --role ingest` and two `usertrail worker`s on one data directory, without the bus.

One processor follows a database: the first worker takes the processor lock (the lock file
holds its own pid) and the second stands by, processing nothing, until the first is
SIGKILLed; then it takes over and processes what comes after. Every event is processed
once, by one of them: each worker's own usertrail_events_processed_total, read from its
prometheus_client multiprocess files (a worker serves no /metrics; the files outlive a
SIGKILL). An all-in-one `serve` started then stands by too. On SQLite and on PostgreSQL
without the bus; before, both workers followed the raw log and processed events twice.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector

from tests.live import LiveServer, LiveWorker, wait_for
from tests.scale.test_scale_out import stored_uuids, wait_until_processed
from tests.scale.test_serve_standby import (
    PER_SERVER,
    captured,
    readyz,
)
from tests.scale.test_serve_standby import processed as processed_by_server

PROCESSED = "usertrail_events_processed_total"


def counted_worker(data: Path, name: str, env: dict[str, str]) -> LiveWorker:
    """A worker on `data` whose counters go to files of its own (see `processed`)."""
    metrics = data.parent / f"{name} metrics"
    metrics.mkdir()
    env = {**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics)}
    return LiveWorker(data, env=env, log_name=f"{name}.log")


def processed(worker: LiveWorker) -> float:
    """The events this worker's processor stored (its in-process counter)."""
    registry = CollectorRegistry()
    files = worker.env["PROMETHEUS_MULTIPROC_DIR"]
    MultiProcessCollector(registry, files)  # type: ignore[no-untyped-call]
    return registry.get_sample_value(PROCESSED) or 0.0


def logged(worker: LiveWorker, event: str) -> str | None:
    """The worker's first log line with `event`."""
    lines = worker.log_path.read_text(errors="replace").splitlines()
    return next((line for line in lines if event in line), None)


def processed_by_both(first: LiveWorker, second: LiveWorker, total: int) -> tuple[float, float]:
    """Each worker's count, once together they count `total` (or more: twice processed)."""

    def counted() -> tuple[float, float] | None:
        counts = (processed(first), processed(second))
        return counts if sum(counts) >= total else None

    return wait_for(counted, timeout=20, what=f"the workers to count {total} events")


@pytest.mark.timeout(60)
def test_a_second_worker_on_the_data_stands_by_and_takes_over(
    tmp_path: Path, backend: tuple[str, dict[str, str]]
) -> None:
    url, env = backend
    data = tmp_path / "dätä dir"
    ingest = LiveServer(data, env=env, args=["--role", "ingest"], log_name="ingest.log")
    first = counted_worker(data, "first", env)
    # As from the ingest server's environment file: a worker processes whatever the role.
    second = counted_worker(data, "second", {**env, "USERTRAIL_ROLE": "ingest"})
    try:
        ingest.start()
        first.start()
        second.spawn()
        standing = wait_for(lambda: logged(second, "processor_standing_by"), what="the standby")
        assert first.proc is not None
        assert f"serve_pid={first.proc.pid}" in standing  # the worker's own pid, as its server

        sent = captured(ingest, 0) | captured(ingest, 1)
        wait_until_processed(url, timeout=20)
        assert processed_by_both(first, second, len(sent)) == (len(sent), 0)
        assert logged(second, "worker_started") is None

        first.kill()
        wait_for(lambda: logged(second, "worker_started"), what="the takeover")
        assert logged(second, "processor_took_over")
        sent |= captured(ingest, 2)
        stored = wait_until_processed(url, timeout=20)
        assert processed_by_both(first, second, len(sent)) == (2 * PER_SERVER, PER_SERVER)
        assert stored_uuids(url, "raw_events") == sent
        assert stored == len(sent)
        assert stored_uuids(url, "events") == sent  # each processed, once

        sent |= a_serve_beside_stands_by_too(url, data, env, second)
        assert processed_by_both(first, second, len(sent)) == (2 * PER_SERVER, 2 * PER_SERVER)
        assert stored_uuids(url, "events") == sent
    finally:
        for process in (second, first, ingest):
            process.stop()


def a_serve_beside_stands_by_too(
    url: str, data: Path, env: dict[str, str], worker: LiveWorker
) -> set[str]:
    """An all-in-one `serve` on the data: its processor stands by, naming the worker, which
    processes what the serve captures. Returns those events' uuids."""
    serve = LiveServer(data, env=env, log_name="serve.log").start()
    try:
        assert worker.proc is not None
        standing = readyz(serve)
        assert standing["processor"] == "standby"
        assert f"pid {worker.proc.pid}" in standing["detail"]
        sent = captured(serve, 3)
        wait_until_processed(url, timeout=20)
        assert processed_by_server(serve) == 0
        return sent
    finally:
        serve.stop()
