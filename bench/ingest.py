"""Ingest benchmark: a real server (embedded, durable) under wrk on loopback.

Prints events/s and request latency p50/p99 for single-event requests and batches of 50 and
500. Run: `make bench` or `python -m bench.ingest [--seconds 10]`. Needs `wrk` (Debian).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table
from tests.backends import REDIS_URL, pg_schema_url, redis_prefix
from tests.live import TOKEN, LiveServer

from bench import wrk
from bench.ceilings import append_ceiling, http_ceiling
from bench.wrk import Result, Scenario

SCENARIOS = (
    Scenario("1 (/e/)", "/e/", 1, 32),
    Scenario("50 (/batch/)", "/batch/", 50, 16),
    Scenario("500 (/batch/)", "/batch/", 500, 8),
)


ROLES = {
    # One process does everything: acks compete for the GIL with the in-process processor.
    "all": "serve (all-in-one)",
    # What a scale-out ingest process does: decode, authenticate, commit, ack.
    "ingest": "serve --role ingest",
    # Scale-out: the raw log in PostgreSQL (the point of acceptance), then XADD to Redis.
    "ingest-pg": "serve --role ingest, PostgreSQL + Redis",
}


@contextmanager
def backend(role: str) -> Iterator[dict[str, str]]:
    """The server's environment: embedded, or a fresh PostgreSQL schema and Redis prefix."""
    if role != "ingest-pg":
        yield {"USERTRAIL_ROLE": role}
        return
    with pg_schema_url() as url, redis_prefix() as prefix:
        yield {
            "USERTRAIL_ROLE": "ingest",
            "USERTRAIL_DATABASE_URL": url,
            "USERTRAIL_BUS_URL": REDIS_URL,
            "USERTRAIL_BUS_PREFIX": prefix,
        }


@dataclass(frozen=True)
class Ceilings:
    http_requests_per_s: float  # the minimal ASGI app, single-event load
    append_rows_per_s: float  # plain sqlite3, durable, 500 rows per commit

    def share(self, role: str, r: Result) -> str:
        """The figure as a share of what the machine itself allows for that kind of load."""
        if r.scenario.batch == 1:
            return f"{r.requests_per_s / self.http_requests_per_s:.0%} of HTTP"
        if role == "ingest-pg":
            return "-"  # the SQLite ceiling says nothing about PostgreSQL + Redis
        return f"{r.events_per_s / self.append_rows_per_s:.0%} of append"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--roles", nargs="+", choices=list(ROLES), default=list(ROLES))
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install wrk")
    ceilings = Ceilings(http_ceiling(SCENARIOS[0], args.seconds), append_ceiling())
    results = []
    for role in args.roles:
        for scenario in SCENARIOS:
            # A fresh log per scenario.
            with tempfile.TemporaryDirectory() as tmp, backend(role) as env:
                server = LiveServer(data_dir=Path(tmp), env=env).start()
                try:
                    results.append((role, wrk.capture(server.url, scenario, args.seconds, TOKEN)))
                finally:
                    server.stop()
    show(results, ceilings, args.seconds)


def show(results: list[tuple[str, Result]], ceilings: Ceilings, seconds: int) -> None:
    table = Table(
        title=f"usertrail ingest, {seconds} s each, {os.cpu_count()} cores; embedded = SQLite WAL, "
        "synchronous=FULL",
        caption=f"ceilings measured in this run: minimal ASGI app "
        f"{ceilings.http_requests_per_s:,.0f} req/s (32 conns); plain sqlite3 durable append "
        f"{ceilings.append_rows_per_s:,.0f} rows/s (500 per commit)",
    )
    columns = (
        "process",
        "events/request",
        "conns",
        "requests/s",
        "events/s",
        "p50 ms",
        "p99 ms",
        "errors",
        "share of ceiling",
    )
    for column in columns:
        table.add_column(column, justify="left" if column in columns[:2] else "right")
    for role, r in results:
        table.add_row(
            ROLES[role],
            r.scenario.name,
            str(r.scenario.connections),
            f"{r.requests_per_s:,.0f}",
            f"{r.events_per_s:,.0f}",
            f"{r.p50_ms:.1f}",
            f"{r.p99_ms:.1f}",
            str(r.errors),
            ceilings.share(role, r),
        )
    Console(width=140).print(table)


if __name__ == "__main__":
    main()
