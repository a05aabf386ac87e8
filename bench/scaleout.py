"""Scale-out throughput: PostgreSQL + Redis Streams, with 1 and 2 `usertrail worker` processes.

For each worker count: a fresh PostgreSQL schema and Redis prefix; the ingest path (raw log
append to PostgreSQL, then XADD to the partitioned streams, no HTTP) is timed on a realistic
trace; then the workers start on the full backlog and are timed until every event is derived
and acked. Servers: the machine's own PostgreSQL and Redis on loopback.
Run: `python -m bench.scaleout [--events 30000] [--workers 1 2]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, create_engine, text
from tests.backends import REDIS_URL, pg_schema_url, redis_prefix
from tests.live import LiveWorker

from bench.cpu import RoleCpu, per_thousand
from bench.workload import raw_events
from usertrail.settings import Settings
from usertrail.wiring import build_runtime

BATCH = 500  # events per capture request, as an SDK's batch would be
TARGET = 20_000  # events/s, the processor on PostgreSQL (issue 22)


async def fill(settings: Settings, events: int, persons: int) -> float:
    """Accept the trace as ingest does (raw log, then bus); returns events/s."""
    runtime = build_runtime(settings)
    assert runtime.bus is not None
    trace = raw_events(runtime.default_project.id, events, persons)
    started = time.perf_counter()
    for i in range(0, len(trace), BATCH):
        batch = trace[i : i + BATCH]
        await runtime.event_log.append(batch)
        await runtime.bus.publish(batch)
    rate = events / (time.perf_counter() - started)
    await runtime.close()
    return rate


def derived_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM events")).scalar_one())


class Drained(NamedTuple):
    events_per_s: float
    worker_cpu_s: float  # all workers' processes, from start to the last event derived
    postgres_cpu_s: float  # the PostgreSQL backends serving them


def drain_with(workers: int, env: dict[str, str], url: str, events: int, tmp: Path) -> Drained:
    """Start `workers` processes on the backlog; events/s from the first one's start until
    all are derived (the workers boot in parallel; boot time is not counted)."""
    procs = [LiveWorker(tmp / f"w{workers}-{i}", env=env) for i in range(workers)]
    for proc in procs:
        proc.spawn()
    # One connection for the polling: a new one every 20 ms was a PostgreSQL backend forked
    # 50 times a second, on the cores the workers and their database share.
    engine = create_engine(url)
    try:
        for proc in procs:
            proc.wait_started(timeout=60)
        cpu = RoleCpu(url, [proc.proc.pid for proc in procs if proc.proc is not None])
        cpu.start()
        started = min(_started_at(proc) for proc in procs)
        while derived_count(engine) < events:
            time.sleep(0.02)
        rate = events / (time.time() - started)
        return Drained(rate, *cpu.stop())
    finally:
        engine.dispose()
        for proc in procs:
            proc.stop()


def _started_at(worker: LiveWorker) -> float:
    """The wall-clock time in the worker's `worker_started` log line."""
    line = next(x for x in worker.log_path.read_text().splitlines() if "worker_started" in x)
    stamp = re.search(r"\d{4}-\d\d-\d\dT[\d:.]+Z", line)
    assert stamp, line
    return datetime.fromisoformat(stamp.group(0)).timestamp()


def run(workers: int, events: int, persons: int, tmp: Path) -> tuple[float, Drained]:
    with pg_schema_url() as url, redis_prefix() as prefix:
        env = {
            "USERTRAIL_DATABASE_URL": url,
            "USERTRAIL_BUS_URL": REDIS_URL,
            "USERTRAIL_BUS_PREFIX": prefix,
            "USERTRAIL_DEMO": "0",
        }
        settings = Settings(
            database_url=url, bus_url=REDIS_URL, bus_prefix=prefix, data_dir=tmp, demo=False
        )
        ingest_rate = asyncio.run(fill(settings, events, persons))
        return ingest_rate, drain_with(workers, env, url, events, tmp)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=30_000)
    parser.add_argument("--persons", type=int, default=1_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    table = Table(
        title=f"usertrail scale-out, PostgreSQL + Redis Streams, {args.events:,} events, "
        f"{args.persons:,} persons, {os.cpu_count()} cores"
    )
    table.add_column("workers", justify="right")
    table.add_column("ingest path, 1 process (PG append + XADD) ev/s", justify="right")
    table.add_column("workers drain the backlog ev/s", justify="right")
    table.add_column(f"share of {TARGET:,} ev/s target", justify="right")
    table.add_column("worker CPU-s / 1,000 ev", justify="right")
    table.add_column("PostgreSQL CPU-s / 1,000 ev", justify="right")
    with tempfile.TemporaryDirectory() as tmp:
        for workers in args.workers:
            ingest_rate, drained = run(workers, args.events, args.persons, Path(tmp))
            table.add_row(
                str(workers),
                f"{ingest_rate:,.0f}",
                f"{drained.events_per_s:,.0f}",
                f"{drained.events_per_s / TARGET:.0%}",
                per_thousand(drained.worker_cpu_s, args.events),
                per_thousand(drained.postgres_cpu_s, args.events),
            )
    Console(width=160).print(table)


if __name__ == "__main__":
    main()
