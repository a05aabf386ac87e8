"""Cold context builds in process (no HTTP, no hot cache), embedded SQLite: a user's context
(100 and `--big` stored events) and an account's (`--members` members with 200 events each).
What a first read, or the read right after new events, costs before HTTP.

Run: `python -m bench.cold_context [--big 20000] [--members 50] [--rounds 300]`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import msgspec
from rich.console import Console
from rich.table import Table

from bench.workload import raw_events
from usertrail.core.context.account import AccountOptions
from usertrail.core.context.build import ContextOptions
from usertrail.model.raw import RawEvent
from usertrail.settings import Settings
from usertrail.wiring import Runtime, build_runtime

Timing = tuple[float, float, float]  # min, median, p90 in ms


async def timed(call: Callable[[], Awaitable[object]], rounds: int) -> Timing:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        await call()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return times[0], statistics.median(times), times[int(len(times) * 0.9)]


def in_account(event: RawEvent, distinct_id: str) -> RawEvent:
    props = {**event.body.get("properties", {}), "$groups": {"company": "acme"}}
    body = {**event.body, "distinct_id": distinct_id, "properties": props}
    return msgspec.structs.replace(event, distinct_id=distinct_id, body=body)


async def fill(runtime: Runtime, big: int, members: int) -> None:
    project = runtime.default_project.id
    for user, n in (("u_small", 100), ("u_big", big)):
        trace = [msgspec.structs.replace(e, distinct_id=user) for e in raw_events(project, n, 1)]
        for i in range(0, len(trace), 5000):
            await runtime.event_log.append(trace[i : i + 5000])
    for m in range(members):
        trace = [in_account(e, f"m{m}") for e in raw_events(project, 200, 1)]
        await runtime.event_log.append(trace)
    await runtime.processor.drain()


def user_read(runtime: Runtime, user: str) -> Callable[[], Awaitable[object]]:
    def read() -> Awaitable[object]:
        return runtime.context.for_user(runtime.default_project, user, ContextOptions(n=20))

    return read


def account_read(runtime: Runtime, fmt: str, budget: int | None) -> Callable[[], Awaitable[object]]:
    options, account = AccountOptions(n=20, max_tokens=budget), ("company", "acme")

    def read() -> Awaitable[object]:
        return runtime.accounts.for_group(runtime.default_project, account, options, fmt)

    return read


async def measure(args: argparse.Namespace) -> list[tuple[str, Timing]]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), demo=False, context_cache_size=0)
        runtime = build_runtime(settings)
        await fill(runtime, args.big, args.members)
        rows = [
            (f"user, {user}", await timed(user_read(runtime, user), args.rounds))
            for user in ("u_small", "u_big")
        ]
        for fmt, budget in (("json", None), ("markdown", 1500)):
            call = account_read(runtime, fmt, budget)
            rows.append((f"account, {fmt}, max_tokens={budget}", await timed(call, args.rounds)))
        await runtime.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--big", type=int, default=20_000)
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    rows = asyncio.run(measure(args))
    table = Table(title=f"Cold context builds, embedded SQLite, {args.rounds} rounds each")
    for column in ("context", "min ms", "median ms", "p90 ms"):
        table.add_column(column, justify="right")
    for name, (low, mid, p90) in rows:
        table.add_row(name, f"{low:.2f}", f"{mid:.2f}", f"{p90:.2f}")
    Console(width=100).print(table)


if __name__ == "__main__":
    main()
