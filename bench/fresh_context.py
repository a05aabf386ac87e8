"""The context read right after a new event of the user (embedded SQLite, in process, no HTTP).

A user with `--history` stored events is read once (cached); then, `--rounds` times: one new
event is appended and processed, and the user's context read again. Before incremental
contexts, every new event dropped the cached context and that read was a cold rebuild from the
database; now the cache advances the loaded inputs (core.context.advance) and the read only
builds. Also times the processor's listener (the advance itself) and, for comparison, a cold
read (cache off). Target: the read after a new event ≤ 2 ms at p50 (issue 22).

Run: `python -m bench.fresh_context [--history 2000] [--rounds 300]`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import msgspec
from rich.console import Console
from rich.table import Table

from bench.workload import raw_events
from usertrail.core.context.build import ContextOptions
from usertrail.model.event import Changed
from usertrail.settings import Settings
from usertrail.wiring import Runtime, build_runtime

TARGET_MS = 2.0
Timing = tuple[float, float, float]  # p50, p90, p99 in ms


def percentiles(times: list[float]) -> Timing:
    times = sorted(times)

    def at(q: float) -> float:
        return times[min(len(times) - 1, int(len(times) * q))]

    return statistics.median(times), at(0.9), at(0.99)


def timed_listener(runtime: Runtime, spent: list[float]) -> None:
    """Wrap the cache's processor listener to time what a new event costs it."""
    listeners = runtime.processor.listeners
    index = next(i for i, f in enumerate(listeners) if getattr(f, "__name__", "") == "invalidate")
    inner: Callable[[Sequence[Changed]], None] = listeners[index]

    def listener(changed: Sequence[Changed]) -> None:
        start = time.perf_counter()
        inner(changed)
        spent.append((time.perf_counter() - start) * 1000)

    listeners[index] = listener


async def measure(history: int, rounds: int, cache_size: int) -> tuple[Timing, Timing]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), demo=False, context_cache_size=cache_size)
        runtime = build_runtime(settings)
        project, options = runtime.default_project, ContextOptions(n=20)
        trace = [
            msgspec.structs.replace(e, distinct_id="u_active")
            for e in raw_events(project.id, history + rounds, 1)
        ]
        for i in range(0, history, 5000):
            await runtime.event_log.append(trace[i : min(i + 5000, history)])
        await runtime.processor.drain()
        await runtime.context.rendered(project, "u_active", options)
        spent: list[float] = []
        timed_listener(runtime, spent)
        reads = []
        for event in trace[history:]:
            await runtime.event_log.append([event])
            await runtime.processor.drain()
            start = time.perf_counter()
            await runtime.context.rendered(project, "u_active", options)
            reads.append((time.perf_counter() - start) * 1000)
        await runtime.close()
    return percentiles(reads), percentiles(spent)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--history", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    fresh, listener = asyncio.run(measure(args.history, args.rounds, 10_000))
    cold, _ = asyncio.run(measure(args.history, args.rounds, 0))
    table = Table(
        title=f"Context read after each new event, {args.history:,}-event user, "
        f"{args.rounds} rounds, embedded SQLite",
        caption=f"target: read after a new event ≤ {TARGET_MS} ms at p50",
    )
    for column in ("what", "p50 ms", "p90 ms", "p99 ms", "p50 vs target"):
        table.add_column(column, justify="right")
    for name, (p50, p90, p99) in (
        ("read after a new event (cache on)", fresh),
        ("  the cache's share of processing it", listener),
        ("read with the cache off (cold)", cold),
    ):
        share = f"{p50 / TARGET_MS:.0%}" if not name.startswith("  ") else ""
        table.add_row(name, f"{p50:.3f}", f"{p90:.3f}", f"{p99:.3f}", share)
    Console(width=120).print(table)


if __name__ == "__main__":
    main()
