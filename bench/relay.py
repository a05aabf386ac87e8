"""Keeping PostHog in the loop, measured: what the relay costs capture, how far behind PostHog
it runs, and how fast `usertrail import posthog` reads history.

PostHog is the loopback stand-in the tests use (tests/posthog_standin.py), in this process;
usertrail is a real embedded server (durable SQLite), loaded by wrk.
1. Capture throughput with the relay off and on, interleaved (off, on, off, on), per scenario.
2. Relay lag at a paced background load of about 1,000 events/s: a probe event every 50 ms,
   from its capture ack to its arrival at PostHog.
3. Backfill: events per second of `usertrail import posthog` from the stand-in, whole command.
Run: `python -m bench.relay [--seconds 10] [--events 200000]`.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table
from tests.live import TOKEN, LiveServer
from tests.posthog_standin import StandIn
from tests.upstream.test_backfill import environment, history, import_command

from bench import wrk
from bench.freshness import background

SCENARIOS = (
    wrk.Scenario("/e/ (1 event)", "/e/", 1, 32),
    wrk.Scenario("/batch/ (50 events)", "/batch/", 50, 16),
)


@contextmanager
def server(relay_to: str | None) -> Iterator[LiveServer]:
    env = {"USERTRAIL_DEMO": "0", "USERTRAIL_READ_RATE_PER_S": "0"}
    if relay_to:
        env["USERTRAIL_POSTHOG_HOST"] = relay_to
    with tempfile.TemporaryDirectory() as tmp:
        live = LiveServer(Path(tmp), env=env).start()
        try:
            yield live
        finally:
            live.stop()


def throughput(posthog: StandIn, seconds: int) -> Table:
    table = Table(title=f"Capture with the relay off and on (embedded, durable, {seconds} s a row)")
    for column in ("scenario", "relay", "events/s (runs)", "mean", "cost"):
        table.add_column(column, justify="right")
    for scenario in SCENARIOS:
        runs: dict[bool, list[float]] = {False: [], True: []}
        for relay in (False, True, False, True):
            with server(posthog.url if relay else None) as live:
                result = wrk.capture(live.url, scenario, seconds, TOKEN)
                assert result.errors == 0, result
                runs[relay].append(result.events_per_s)
        off, on = statistics.mean(runs[False]), statistics.mean(runs[True])
        for relay in (False, True):
            table.add_row(
                scenario.name,
                "on" if relay else "off",
                " / ".join(f"{v:,.0f}" for v in runs[relay]),
                f"{(on if relay else off):,.0f}",
                f"{(off - on) / off:+.1%}" if relay else "",
            )
    return table


def lag(posthog: StandIn, seconds: int, rate: float) -> Table:
    with server(posthog.url) as live:
        load = background(live.url, rate, seconds + 1)
        time.sleep(1)
        acked: dict[str, float] = {}
        deadline = time.monotonic() + seconds
        with httpx.Client(timeout=10) as client:
            while time.monotonic() < deadline:
                probe = str(uuid.uuid4())
                body = {"api_key": TOKEN, "event": "probe", "distinct_id": "p", "uuid": probe}
                assert client.post(f"{live.url}/e/", json=body).status_code == 200
                acked[probe] = time.time()
                time.sleep(0.05)
        out, _ = load.communicate(timeout=60)
        achieved = float(out.split("Requests/sec:")[1].split()[0]) * 10
        arrivals = _arrivals(posthog, set(acked))
    lags = [(arrivals[u] - acked[u]) * 1000 for u in acked]
    cuts = statistics.quantiles(lags, n=100, method="inclusive")
    table = Table(title=f"Relay lag: capture ack -> at PostHog, embedded, {seconds} s")
    for column in ("background events/s", "probes", "p50 ms", "p99 ms", "max ms"):
        table.add_column(column, justify="right")
    table.add_row(
        f"{achieved:,.0f}", str(len(lags)), f"{cuts[49]:.0f}", f"{cuts[98]:.0f}", f"{max(lags):.0f}"
    )
    return table


def _arrivals(posthog: StandIn, wanted: set[str], timeout: float = 60) -> dict[str, float]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = {
            e["uuid"]: r.at
            for r in list(posthog.captured)
            for e in r.body["batch"]
            if e["uuid"] in wanted
        }
        if len(found) == len(wanted):
            return found
        time.sleep(0.2)
    raise AssertionError("not every probe reached PostHog")


def backfill(events: int) -> Table:
    posthog = StandIn(tokens={TOKEN}, history=history(events)).start()
    posthog._events_table()  # sorted before the clock starts, as ClickHouse keeps it
    try:
        with tempfile.TemporaryDirectory() as tmp:
            command = import_command(Path(tmp), posthog)
            env = environment()
            started = time.perf_counter()
            subprocess.run(command, env=env, check=True, capture_output=True, timeout=600)
            elapsed = time.perf_counter() - started
    finally:
        posthog.stop()
    table = Table(title="Backfill: `usertrail import posthog` from the stand-in (whole command)")
    for column in ("events", "pages", "seconds", "events/s"):
        table.add_column(column, justify="right")
    table.add_row(
        f"{events:,}", str(len(posthog.queries)), f"{elapsed:.1f}", f"{events / elapsed:,.0f}"
    )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rate", type=float, default=1000)
    parser.add_argument("--events", type=int, default=200_000)
    args = parser.parse_args()
    console = Console(width=120)
    posthog = StandIn(tokens={TOKEN}).start()
    try:
        console.print(throughput(posthog, args.seconds))
        console.print(lag(posthog, args.seconds, args.rate))
    finally:
        posthog.stop()
    console.print(backfill(args.events))


if __name__ == "__main__":
    main()
