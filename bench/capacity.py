"""Capture capacity in one command: each figure beside the ceiling measured in the same run,
and what each role costs in CPU.

Figures (real servers on loopback, wrk, durable: committed before the 2xx):
- single-event latency at one connection, `/e/` and the webhook route with PostHog's
  webhook body, for `serve --role ingest` and `serve` (all-in-one); ceilings: the minimal
  ASGI app at one connection, and one durable sqlite3 commit on this disk, now;
- single-event throughput at 32 connections, same routes and processes; ceiling: the minimal
  ASGI app under the same load;
- batched capture (`/batch/`, 50 and 500 events a request); ceiling: plain sqlite3 durable
  appends, 500 rows a commit;
- CPU per role on PostgreSQL + Redis: CPU-seconds per 1,000 events of the ingest process,
  the worker and PostgreSQL's backends serving them (utime + stime from /proc/<pid>/stat,
  read before and after; backends found by their application_name), for single-event and
  batched requests, the worker running until every accepted event is processed.

Run: `python -m bench.capacity [--seconds 5]` (or `make capacity`). Needs wrk, PostgreSQL
and Redis as the tests use them (tests/backends.py).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, text
from tests.backends import REDIS_URL, pg_schema_url, redis_prefix
from tests.live import TOKEN, WEBHOOK_SECRET, LiveServer, LiveWorker

from bench import wrk
from bench.ceilings import append_ceiling, commit_latency, minimal_server
from bench.wrk import Result, Scenario

CLK_TCK = os.sysconf("SC_CLK_TCK")
ROLES = {"ingest": "serve --role ingest", "all": "serve (all-in-one)"}
SINGLE = ("/e/", "/webhooks/posthog")
BATCHES = (Scenario("/batch/ x50", "/batch/", 50, 16), Scenario("/batch/ x500", "/batch/", 500, 8))


@dataclass(frozen=True)
class Row:
    figure: str
    process: str
    value: str
    ceiling: str
    share: str


def load(url: str, scenario: Scenario, seconds: int) -> Result:
    if "webhook" in scenario.path:
        return wrk.webhook(url, scenario, seconds, WEBHOOK_SECRET)
    return wrk.capture(url, scenario, seconds, TOKEN)


def latency_rows(url: str, process: str, seconds: int, http: Result) -> list[Row]:
    """Each beside its floor: the minimal app's latency plus a durable commit's, the commit
    measured right before the row (this disk's fsync moves by several times under load)."""
    rows = []
    for path in SINGLE:
        commit = commit_latency()
        floor = (http.p50_ms + commit[0], http.p99_ms + commit[1])
        r = load(url, Scenario(path, path, 1, 1), seconds)
        ceiling = f"{floor[0]:.2f} / {floor[1]:.2f}"
        rows.append(
            Row(
                f"latency p50 / p99 ms, 1 conn, {path}",
                process,
                f"{r.p50_ms:.2f} / {r.p99_ms:.2f}",
                ceiling,
                f"+{r.p50_ms - floor[0]:.2f} / +{r.p99_ms - floor[1]:.2f} ms",
            )
        )
    return rows


def throughput_rows(url: str, process: str, seconds: int, http: float, append: float) -> list[Row]:
    rows = []
    for path in SINGLE:
        r = load(url, Scenario(path, path, 1, 32), seconds)
        rows.append(
            Row(
                f"single-event req/s, 32 conns, {path}",
                process,
                f"{r.requests_per_s:,.0f} (p99 {r.p99_ms:.0f} ms, {r.errors} errors)",
                f"{http:,.0f} req/s",
                f"{r.requests_per_s / http:.0%}",
            )
        )
    for scenario in BATCHES:
        r = load(url, scenario, seconds)
        rows.append(
            Row(
                f"batched events/s, {scenario.connections} conns, {scenario.name}",
                process,
                f"{r.events_per_s:,.0f} (p99 {r.p99_ms:.0f} ms, {r.errors} errors)",
                f"{append:,.0f} rows/s",
                f"{r.events_per_s / append:.0%}",
            )
        )
    return rows


@contextmanager
def server(role: str) -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp:
        live = LiveServer(data_dir=Path(tmp), env={"USERTRAIL_ROLE": role, "USERTRAIL_DEMO": "0"})
        live.start()
        try:
            yield live.url
        finally:
            live.stop()


def cpu_s(pids: list[int]) -> float:
    """utime + stime of these processes, seconds (ended ones count 0)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / CLK_TCK


def processed(url: str) -> tuple[int, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            raw: int = conn.execute(text("SELECT count(*) FROM raw_events")).scalar_one()
            done: int = conn.execute(text("SELECT count(*) FROM events")).scalar_one()
        return int(raw), int(done)
    finally:
        engine.dispose()


def backends_of(url: str, name: str) -> list[int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            query = text("SELECT pid FROM pg_stat_activity WHERE application_name = :name")
            return [int(row[0]) for row in conn.execute(query, {"name": name})]
    finally:
        engine.dispose()


def cpu_rows(scenario: Scenario, seconds: int) -> list[Row]:
    """One scale-out ingest process and one worker on a fresh schema: CPU per 1,000 events."""
    with pg_schema_url() as base, redis_prefix() as prefix, tempfile.TemporaryDirectory() as tmp:
        name = f"utcap_{prefix}"
        url = f"{base}&application_name={name}"
        env = {
            "USERTRAIL_DATABASE_URL": url,
            "USERTRAIL_BUS_URL": REDIS_URL,
            "USERTRAIL_BUS_PREFIX": prefix,
            "USERTRAIL_DEMO": "0",
        }
        ingest = LiveServer(Path(tmp) / "i", env={**env, "USERTRAIL_ROLE": "ingest"}).start()
        worker = LiveWorker(Path(tmp) / "w", env=env).start()
        try:
            return _measure(scenario, seconds, ingest, worker, url, name)
        finally:
            ingest.stop()
            worker.stop()


def _measure(
    scenario: Scenario, seconds: int, ingest: LiveServer, worker: LiveWorker, url: str, name: str
) -> list[Row]:
    assert ingest.proc is not None
    assert worker.proc is not None
    roles = {"ingest": [ingest.proc.pid], "worker": [worker.proc.pid]}
    roles["PostgreSQL"] = backends_of(url, name)
    before = {role: cpu_s(pids) for role, pids in roles.items()}
    result = load(ingest.url, scenario, seconds)
    deadline = time.monotonic() + 120
    while (counts := processed(url))[0] != counts[1] and time.monotonic() < deadline:
        roles["PostgreSQL"] = sorted(set(roles["PostgreSQL"]) | set(backends_of(url, name)))
        time.sleep(0.2)
    events = counts[0]
    after = {role: cpu_s(pids) for role, pids in roles.items()}
    figure = f"CPU-s per 1,000 events, PostgreSQL + Redis, {scenario.name}"
    rate = f"{result.events_per_s:,.0f} events/s accepted, {events:,} processed"
    return [
        Row(figure, role, f"{(after[role] - before[role]) * 1000 / max(events, 1):.3f}", rate, "")
        for role in roles
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--no-postgres", action="store_true", help="skip the CPU-per-role rows")
    args = parser.parse_args()
    with minimal_server() as url:
        one = load(url, Scenario("/e/", "/e/", 1, 1), args.seconds)
        http = load(url, Scenario("/e/", "/e/", 1, 32), args.seconds).requests_per_s
    append = append_ceiling()
    rows: list[Row] = []
    for role, process in ROLES.items():
        with server(role) as url:
            rows += latency_rows(url, process, args.seconds, one)
            rows += throughput_rows(url, process, args.seconds, http, append)
    if not args.no_postgres:
        for scenario in (Scenario("/e/ x1", "/e/", 1, 32), BATCHES[0]):
            rows += cpu_rows(scenario, args.seconds)
    show(rows, args.seconds, one)


def show(rows: list[Row], seconds: int, one: Result) -> None:
    table = Table(
        title=f"usertrail capture capacity, {seconds} s a row, {os.cpu_count()} cores, durable",
        caption=f"latency ceiling = minimal ASGI app at 1 conn (p50 {one.p50_ms:.2f}, p99 "
        f"{one.p99_ms:.2f} ms) + 300 durable one-row sqlite3 commits just before the row; "
        "share there = what usertrail adds",
    )
    for column in ("figure", "process", "value", "ceiling (same run)", "share"):
        table.add_column(column)
    for row in rows:
        table.add_row(row.figure, row.process, row.value, row.ceiling, row.share)
    Console(width=160).print(table)


if __name__ == "__main__":
    main()
