"""The machine's own limits, measured in the same run as the benchmarks that quote them:

- HTTP: requests/s of bench.minimal_app (uvicorn, same flags as `usertrail serve`) under the
  same wrk load as the single-event capture scenario;
- durable append: rows/s of plain sqlite3 inserting raw-event-sized rows in transactions of
  the same size, WAL, synchronous=FULL (one fsync per commit), unique (project, uuid).

A benchmark's figure divided by its ceiling says how much of the machine usertrail leaves
unused: the part it spends on decoding, validating, enriching and bookkeeping.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from tests.live import free_port

from bench import wrk

ROW_BYTES = 700  # about a posthog-js click event's stored JSON


@contextmanager
def minimal_server() -> Iterator[str]:
    """bench.minimal_app under uvicorn on a free loopback port; yields its URL."""
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.minimal_app:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])},
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 15
        while True:
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield url
    finally:
        server.terminate()
        server.wait(10)


def http_ceiling(scenario: wrk.Scenario, seconds: int) -> float:
    """Requests/s of the minimal ASGI app under `scenario`'s capture load."""
    with minimal_server() as url:
        return wrk.capture(url, scenario, seconds, token="unused").requests_per_s


def append_ceiling(rows: int = 100_000, batch: int = 500) -> float:
    """Rows/s of durable, deduplicated inserts with plain sqlite3 (no Python above it)."""
    payload = os.urandom(ROW_BYTES // 2).hex().encode()
    with tempfile.TemporaryDirectory() as tmp:
        db = sqlite3.connect(Path(tmp) / "ceiling.db", isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute(
            "CREATE TABLE raw (seq INTEGER PRIMARY KEY, project_id TEXT, uuid TEXT, event TEXT,"
            " distinct_id TEXT, ts_us INTEGER, body BLOB, UNIQUE (project_id, uuid))"
        )
        data = [
            ("p", str(uuid.uuid4()), "$autocapture", f"u{i % 1000}", i, payload)
            for i in range(rows)
        ]
        started = time.perf_counter()
        for i in range(0, rows, batch):
            db.execute("BEGIN IMMEDIATE")
            db.executemany(
                "INSERT INTO raw (project_id, uuid, event, distinct_id, ts_us, body)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                data[i : i + batch],
            )
            db.execute("COMMIT")
        elapsed = time.perf_counter() - started
        db.close()
    return rows / elapsed


def commit_latency(commits: int = 300) -> tuple[float, float]:
    """p50 and p99 ms of one durable one-row commit with plain sqlite3 (WAL, synchronous=FULL):
    the floor under a durable single-event request's latency on this disk, now."""
    payload = os.urandom(ROW_BYTES // 2).hex().encode()
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        db = sqlite3.connect(Path(tmp) / "ceiling.db", isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("CREATE TABLE raw (seq INTEGER PRIMARY KEY, uuid TEXT UNIQUE, body BLOB)")
        for _ in range(commits):
            started = time.perf_counter()
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT INTO raw (uuid, body) VALUES (?, ?)", (str(uuid.uuid4()), payload))
            db.execute("COMMIT")
            times.append((time.perf_counter() - started) * 1000)
        db.close()
    times.sort()
    return times[len(times) // 2], times[int(len(times) * 0.99)]
