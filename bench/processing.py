"""Processor throughput: raw log -> normalized, enriched, stored (embedded SQLite).

Fills a fresh raw log with a realistic trace, then times the in-process processor draining it
(normalize, labels, identity, counters, one transaction per slice, fsync on commit).
Each figure with its share of the machine's ceiling (sqlite3 durable appends) or, for the
processor on PostgreSQL, of the 20,000 events/s target; and the CPU cost per 1,000 events of
the processor's process and of the PostgreSQL backends serving it (bench.cpu).
Run: `python -m bench.processing [--events 100000] [--postgres]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from rich.console import Console
from rich.table import Table
from tests.backends import pg_schema_url

from bench.ceilings import append_ceiling
from bench.cpu import RoleCpu
from bench.workload import raw_events
from usertrail.core.process import derive
from usertrail.model.raw import LoggedEvent
from usertrail.observability import freeze_startup_heap
from usertrail.services.processor import SLICE_EVENTS
from usertrail.settings import Settings
from usertrail.wiring import build_runtime

TARGET_PG = 20_000  # events/s, the processor on PostgreSQL (issue 22)


async def measure(
    events: int, persons: int, data_dir: Path, url: str | None
) -> tuple[float, float, tuple[float, float]]:
    runtime = build_runtime(Settings(data_dir=data_dir, database_url=url, demo=False))
    trace = raw_events(runtime.default_project.id, events, persons)
    started = time.perf_counter()
    for i in range(0, len(trace), 5000):
        await runtime.event_log.append(trace[i : i + 5000])
    append_s = time.perf_counter() - started
    del trace  # the processor reads the log; a server holds no trace
    freeze_startup_heap()  # as `usertrail serve` and `usertrail worker` do before they start
    cpu = RoleCpu(url, [os.getpid()])
    cpu.start()
    started = time.perf_counter()
    done = await runtime.processor.drain()
    process_s = time.perf_counter() - started
    spent = cpu.stop()
    await runtime.close()
    assert done == events, f"processed {done} of {events}"
    return events / append_s, events / process_s, spent


async def measure_stages(
    events: int, persons: int, data_dir: Path, url: str | None
) -> tuple[float, float]:
    """The processor's two halves alone: the pure derive step, then storing its output."""
    runtime = build_runtime(Settings(data_dir=data_dir, database_url=url, demo=False))
    trace = raw_events(runtime.default_project.id, events, persons)
    logged = [LoggedEvent(seq=i + 1, raw=raw) for i, raw in enumerate(trace)]
    started = time.perf_counter()
    slices = [
        derive(logged[i : i + SLICE_EVENTS], runtime.config_for)
        for i in range(0, events, SLICE_EVENTS)
    ]
    derive_s = time.perf_counter() - started
    started = time.perf_counter()
    for derived in slices:
        await runtime.store.apply(derived, "bench")
    store_s = time.perf_counter() - started
    await runtime.close()
    return events / derive_s, events / store_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--persons", type=int, default=1_000)
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    args = parser.parse_args()
    with ExitStack() as stack:
        url = stack.enter_context(pg_schema_url()) if args.postgres else None
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        append_rate, process_rate, (own_s, pg_s) = asyncio.run(
            measure(args.events, args.persons, tmp, url)
        )
    with ExitStack() as stack:
        url = stack.enter_context(pg_schema_url()) if args.postgres else None
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        derive_rate, store_rate = asyncio.run(measure_stages(args.events, args.persons, tmp, url))
    ceiling = append_ceiling()
    table = Table(
        title=f"usertrail processing, {'PostgreSQL' if args.postgres else 'embedded SQLite'}, "
        f"{args.events:,} events, "
        f"{args.persons:,} persons"
    )
    table.add_column("stage")
    table.add_column("events/s", justify="right")
    table.add_column("share", justify="right")
    target = TARGET_PG if args.postgres else None
    rows = (
        ("raw log append (batches of 5,000, no HTTP)", append_rate, ceiling),
        ("processor: normalize + enrich + store", process_rate, target or ceiling),
        ("derive step alone (pure: normalize, enrich, counters)", derive_rate, None),
        (f"store step alone ({SLICE_EVENTS:,} events per transaction)", store_rate, None),
        ("ceiling: plain sqlite3 durable append, 500 rows per commit", ceiling, None),
    )
    for name, rate, of in rows:
        share = f"{rate / of:.0%} of {'target' if of == target else 'ceiling'}" if of else ""
        table.add_row(name, f"{rate:,.0f}", share)
    per = 1000 / args.events
    table.add_row("processor CPU-s per 1,000 events (its process)", f"{own_s * per:.3f}", "")
    if args.postgres:
        table.add_row("PostgreSQL CPU-s per 1,000 events (its backends)", f"{pg_s * per:.3f}", "")
    Console(width=120).print(table)


if __name__ == "__main__":
    main()
