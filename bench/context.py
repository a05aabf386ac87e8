"""Context latency: GET /context/user/{id} for users with 100 and 100,000 stored events, with
1 and 64 concurrent clients (wrk on loopback, embedded SQLite).

`--cold`: only the cold rows (cache off), plus 1 and 64 clients reading 200 distinct users in
turn (no two reads can share a build), each 64-client row against its one-client p99.

Run: `python -m bench.context [--big 100000] [--seconds 10] [--postgres] [--cold]`.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from contextlib import ExitStack
from pathlib import Path

import msgspec
from rich.console import Console
from rich.table import Table
from tests.backends import pg_schema_url
from tests.live import API_KEY, LiveServer

from bench import wrk
from bench.ceilings import minimal_server
from bench.workload import raw_events
from bench.wrk import Result, Scenario
from usertrail.settings import Settings
from usertrail.wiring import build_runtime


async def fill(data_dir: Path, sizes: dict[str, int], database_url: str | None) -> None:
    """Store and process `sizes[user]` events for each user, straight through the runtime."""
    runtime = build_runtime(Settings(data_dir=data_dir, database_url=database_url, demo=False))
    for user, n in sizes.items():
        trace = [
            msgspec.structs.replace(e, distinct_id=user)
            for e in raw_events(runtime.default_project.id, n, 1)
        ]
        for i in range(0, len(trace), 5000):
            await runtime.event_log.append(trace[i : i + 5000])
    await runtime.processor.drain()
    await runtime.close()


def run_wrk(url: str, path: str, connections: int, seconds: int) -> Result:
    scenario = Scenario(path, path, 1, connections)
    return wrk.run(url, scenario, seconds, ["-H", f"Authorization: Bearer {API_KEY}", url + path])


MANY_USERS = 200  # `--cold`: also reads spread over this many users, 100 events each
USERS_LUA = str(Path(__file__).with_name("context_users.lua"))


async def fill_many(data_dir: Path, database_url: str | None) -> None:
    """u0 .. u199, 100 events each (the workload's own ids)."""
    runtime = build_runtime(Settings(data_dir=data_dir, database_url=database_url, demo=False))
    trace = raw_events(runtime.default_project.id, MANY_USERS * 100, MANY_USERS)
    for i in range(0, len(trace), 5000):
        await runtime.event_log.append(trace[i : i + 5000])
    await runtime.processor.drain()
    await runtime.close()


def run_wrk_users(url: str, connections: int, seconds: int) -> Result:
    """Cold reads of distinct users in turn: no two concurrent reads can share a build."""
    scenario = Scenario("users", "/context/user/u<i>", 1, connections)
    args = ["-s", USERS_LUA, "-H", f"Authorization: Bearer {API_KEY}", url]
    return wrk.run(url, scenario, seconds, args, env={"UT_USERS": str(MANY_USERS)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--big", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument(
        "--postgres", action="store_true", help="a `--role context` process on PostgreSQL"
    )
    parser.add_argument("--cold", action="store_true", help="only the cold rows (cache off)")
    args = parser.parse_args()
    sizes = {"u_small": 100, "u_big": args.big}
    results = []
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        url = stack.enter_context(pg_schema_url()) if args.postgres else None
        asyncio.run(fill(Path(tmp), sizes, url))
        if args.cold:
            asyncio.run(fill_many(Path(tmp), url))
        backend = {"USERTRAIL_DATABASE_URL": url, "USERTRAIL_ROLE": "context"} if url else {}
        # "cold" rebuilds the context on every request (hot cache off): the cost of a first
        # read, or of the read right after the user's next event.
        for cache, size in (("hot", "10000"), ("cold", "0"))[1 if args.cold else 0 :]:
            # No read limit: wrk reads far faster than any chatbot (the limit is tested apart).
            env = {
                "USERTRAIL_CONTEXT_CACHE_SIZE": size,
                "USERTRAIL_READ_RATE_PER_S": "0",
                **backend,
            }
            server = LiveServer(data_dir=Path(tmp), env=env).start()
            try:
                for user in sizes:
                    for connections in (1, 64):
                        path = f"/context/user/{user}?n=20"
                        result = run_wrk(server.url, path, connections, args.seconds)
                        results.append((cache, user, result))
                if args.cold:
                    for connections in (1, 64):
                        result = run_wrk_users(server.url, connections, args.seconds)
                        results.append((cache, "users", result))
            finally:
                server.stop()
        with minimal_server() as ceiling_url:  # the same GETs against an app that does nothing
            for connections in (1, 64):
                results.append(
                    ("ceiling", "", run_wrk(ceiling_url, "/", connections, args.seconds))
                )
    store = "PostgreSQL, --role context" if url else "embedded SQLite"
    print_table(f"GET /context/user/{{id}}, {store}, {args.seconds} s each", results, sizes)


FAIRNESS = 10  # target: p99 at 64 clients under 10x the one-client p99 (issue 22)


def print_table(title: str, results: list[tuple[str, str, Result]], sizes: dict[str, int]) -> None:
    """Each row with its share of the ceiling (same clients), and each 64-client row's p99
    against its one-client p99 (the fairness target)."""
    ceiling = {r.scenario.connections: r.requests_per_s for c, _, r in results if c == "ceiling"}
    alone = {(c, u): r.p99_ms for c, u, r in results if r.scenario.connections == 1}
    table = Table(
        title=title,
        caption="ceiling: a minimal ASGI app under uvicorn, same wrk load, same run; "
        f"fairness target: p99 at 64 clients ≤ {FAIRNESS}× the one-client p99",
    )
    columns = ("cache", "user's events", "clients", "requests/s", "share of ceiling")
    for column in (*columns, "p50 ms", "p99 ms", "p99 / 1-client p99", "errors"):
        table.add_column(column, justify="right")
    for cache, user, r in results:
        top = ceiling.get(r.scenario.connections)
        base = alone.get((cache, user))
        ratio = r.p99_ms / base if base and r.scenario.connections > 1 else None
        table.add_row(
            cache,
            _events_label(sizes, user),
            str(r.scenario.connections),
            f"{r.requests_per_s:,.0f}",
            f"{r.requests_per_s / top:.1%}" if top else "",
            f"{r.p50_ms:.1f}",
            f"{r.p99_ms:.1f}",
            f"{ratio:.1f}× (target ≤ {FAIRNESS}×)" if ratio is not None else "",
            str(r.errors),
        )
    Console(width=160).print(table)


def _events_label(sizes: dict[str, int], user: str) -> str:
    if user == "users":
        return f"100 each, {MANY_USERS} users"
    return f"{sizes[user]:,}" if user else "-"


if __name__ == "__main__":
    main()
