"""Freshness: from the capture ack to the event being visible in GET /context/user/{id}.

A real server (embedded, durable) takes a steady background load of /batch/ requests of 10
events (the SDKs batch too); every 50 ms a probe event is captured for a fresh user and the
context endpoint is polled until the probe shows.
Run: `python -m bench.freshness [--rate 1000] [--seconds 10]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import orjson
from rich.console import Console
from rich.table import Table
from tests.live import API_KEY, TOKEN, LiveServer

LUA = Path(__file__).with_name("capture.lua")
RESPONSE_MS = 5  # about the response time of a /batch/ of 10 here; the table prints the rate
BATCH = 10  # events per background request


def _body(distinct_id: str) -> bytes:  # the probe's own event
    return orjson.dumps(
        {
            "event": "$pageview",
            "distinct_id": distinct_id,
            "token": TOKEN,
            "uuid": str(uuid.uuid4()),
            "properties": {"$current_url": "https://app.acme.test/dashboard"},
        }
    )


def background(url: str, rate: float, seconds: float) -> subprocess.Popen[str]:
    """wrk, paced: each connection waits between requests so that together they send about
    `rate` events/s. wrk's delay() starts after each response, so the response time (a few
    ms here, small beside the delay) is subtracted; the table prints the rate achieved."""
    connections = 20  # long delays: an error in RESPONSE_MS moves the rate by about 1 %
    delay_ms = max(1, round(connections * BATCH * 1000 / rate - RESPONSE_MS))
    env = {
        **os.environ,
        "UT_TOKEN": TOKEN,
        "UT_PATH": "/batch/",
        "UT_BATCH": str(BATCH),
        "UT_DELAY_MS": str(delay_ms),
    }
    return subprocess.Popen(
        ["wrk", "-t1", f"-c{connections}", f"-d{int(seconds)}s", "-s", str(LUA), url],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )


async def probe(client: httpx.AsyncClient, url: str, until: float) -> list[float]:
    latencies = []
    headers = {"Authorization": f"Bearer {API_KEY}"}
    while time.monotonic() < until:
        user = f"probe-{uuid.uuid4().hex[:8]}"
        response = await client.post(f"{url}/e/", content=_body(user))
        acked = time.perf_counter()
        assert response.status_code == 200
        while (  # noqa: ASYNC110 - polling the endpoint is what is being measured
            await client.get(f"{url}/context/user/{user}?n=1", headers=headers)
        ).status_code != 200:
            await asyncio.sleep(0.0005)
        latencies.append((time.perf_counter() - acked) * 1000)
        await asyncio.sleep(0.05)
    return latencies


async def run(url: str, rate: float, seconds: float) -> tuple[list[float], float]:
    load = background(url, rate, seconds + 1)
    await asyncio.sleep(1)  # let the load settle first
    async with httpx.AsyncClient(timeout=10) as client:
        latencies = await probe(client, url, time.monotonic() + seconds)
    out, _ = load.communicate(timeout=30)
    achieved = float(out.split("Requests/sec:")[1].split()[0]) * BATCH
    return latencies, achieved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=1000)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        # The probe polls context as fast as it can: no read limit for the measurement.
        server = LiveServer(data_dir=Path(tmp), env={"USERTRAIL_READ_RATE_PER_S": "0"}).start()
        try:
            latencies, achieved = asyncio.run(run(server.url, args.rate, args.seconds))
        finally:
            server.stop()
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    table = Table(
        title=f"Freshness: capture ack -> visible in context, embedded SQLite, {args.seconds:.0f} s"
    )
    for column in ("background events/s", "probes", "p50 ms", "p99 ms", "max ms"):
        table.add_column(column, justify="right")
    table.add_row(
        f"{achieved:,.0f}",
        str(len(latencies)),
        f"{cuts[49]:.1f}",
        f"{cuts[98]:.1f}",
        f"{max(latencies):.1f}",
    )
    Console(width=120).print(table)


if __name__ == "__main__":
    main()
