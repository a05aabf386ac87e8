"""Ingest benchmark: a real server (embedded, durable) under wrk on loopback.

Prints events/s and request latency p50/p99 for single-event requests and batches of 50 and
500. Run: `make bench` or `python -m bench.ingest [--seconds 10]`. Needs `wrk` (Debian).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table
from tests.backends import REDIS_URL, pg_schema_url, redis_prefix
from tests.live import TOKEN, LiveServer

LUA = Path(__file__).with_name("capture.lua")
_UNIT = {"us": 1e-3, "ms": 1.0, "s": 1e3}


@dataclass(frozen=True)
class Scenario:
    name: str
    path: str
    batch: int
    connections: int


SCENARIOS = (
    Scenario("1 (/e/)", "/e/", 1, 32),
    Scenario("50 (/batch/)", "/batch/", 50, 16),
    Scenario("500 (/batch/)", "/batch/", 500, 8),
)


@dataclass(frozen=True)
class Result:
    scenario: Scenario
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def events_per_s(self) -> float:
        return self.requests_per_s * self.scenario.batch


def run_wrk(url: str, s: Scenario, seconds: int) -> Result:
    env = {**os.environ, "UT_TOKEN": TOKEN, "UT_PATH": s.path, "UT_BATCH": str(s.batch)}
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{s.connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "--latency",
            "-s",
            str(LUA),
            url,
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    ).stdout
    return Result(
        s,
        _number(out, r"Requests/sec:\s+([\d.]+)"),
        _latency(out, "50%"),
        _latency(out, "99%"),
        _errors(out),
    )


def _number(text: str, pattern: str) -> float:
    match = re.search(pattern, text)
    if not match:
        raise RuntimeError(f"wrk output has no {pattern!r}:\n{text}")
    return float(match.group(1))


def _latency(text: str, percentile: str) -> float:
    match = re.search(rf"{re.escape(percentile)}\s+([\d.]+)(us|ms|s)\b", text)
    if not match:
        raise RuntimeError(f"wrk output has no {percentile} latency:\n{text}")
    return float(match.group(1)) * _UNIT[match.group(2)]


def _errors(text: str) -> int:
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    socket = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text
    )
    return (int(non2xx.group(1)) if non2xx else 0) + (
        sum(int(g) for g in socket.groups()) if socket else 0
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--roles", nargs="+", choices=list(ROLES), default=list(ROLES))
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install wrk")
    results = []
    for role in args.roles:
        for scenario in SCENARIOS:
            # A fresh log per scenario.
            with tempfile.TemporaryDirectory() as tmp, backend(role) as env:
                server = LiveServer(data_dir=Path(tmp), env=env).start()
                try:
                    results.append((role, run_wrk(server.url, scenario, args.seconds)))
                finally:
                    server.stop()
    show(results, args.seconds)


def show(results: list[tuple[str, Result]], seconds: int) -> None:
    table = Table(
        title=f"usertrail ingest (embedded: SQLite WAL, synchronous=FULL), {seconds} s each, "
        f"{os.cpu_count()} cores"
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
        )
    Console(width=120).print(table)


if __name__ == "__main__":
    main()
