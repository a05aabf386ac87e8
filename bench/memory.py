"""Memory: resident size after 1,000,000 events from 100,000 persons (embedded SQLite).

Fills a data dir through the runtime (raw log append, then the processor, in chunks), then
starts `usertrail serve` on it and reads contexts for many users (filling the hot cache):
prints the filling process's peak RSS, the server's RSS idle and after the reads, and the
database size. Run: `python -m bench.memory [--events 1000000] [--persons 100000]`.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from tests.live import API_KEY, LiveServer

from bench.workload import event_bodies, raw_event
from usertrail.model.raw import RawEvent
from usertrail.settings import Settings
from usertrail.wiring import build_runtime

CHUNK = 50_000


async def fill(data_dir: Path, events: int, persons: int) -> None:
    runtime = build_runtime(Settings(data_dir=data_dir, demo=False))
    project = runtime.default_project.id
    now = datetime.now(UTC)
    chunk: list[RawEvent] = []
    with Progress(console=Console(stderr=True)) as progress:
        task = progress.add_task("append + process", total=events)
        for body in event_bodies(events, persons):
            chunk.append(raw_event(project, body, now))
            if len(chunk) == CHUNK:
                await _store(runtime.event_log.append, chunk)
                await runtime.processor.drain()
                progress.advance(task, len(chunk))
                chunk = []
        if chunk:
            await _store(runtime.event_log.append, chunk)
            await runtime.processor.drain()
            progress.advance(task, len(chunk))
    await runtime.close()


async def _store(
    append: Callable[[Sequence[RawEvent]], Awaitable[object]], chunk: list[RawEvent]
) -> None:
    for i in range(0, len(chunk), 5000):
        await append(chunk[i : i + 5000])


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def read_contexts(url: str, users: int) -> int:
    def one(i: int) -> int:
        headers = {"Authorization": f"Bearer {API_KEY}"}
        return httpx.get(f"{url}/context/user/u{i}", headers=headers, timeout=30).status_code

    with ThreadPoolExecutor(8) as pool:
        return sum(1 for status in pool.map(one, range(users)) if status == 200)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--reads", type=int, default=5_000, help="distinct users read")
    args = parser.parse_args()
    table = Table(
        title=f"usertrail memory, embedded SQLite, {args.events:,} events, {args.persons:,} persons"
    )
    table.add_column("what")
    table.add_column("value", justify="right")
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        asyncio.run(fill(data, args.events, args.persons))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        size = sum(f.stat().st_size for f in data.glob("usertrail.db*")) / 2**20
        env = {"USERTRAIL_DEMO": "0", "USERTRAIL_READ_RATE_PER_S": "0"}
        server = LiveServer(data_dir=data, env=env).start()
        try:
            assert server.proc is not None
            idle = rss_mib(server.proc.pid)
            found = read_contexts(server.url, args.reads)
            after = rss_mib(server.proc.pid)
        finally:
            server.stop()
    table.add_row("filling process (append + processor), peak RSS", f"{peak:,.0f} MiB")
    table.add_row("database on disk (WAL included)", f"{size:,.0f} MiB")
    table.add_row("usertrail serve, RSS at start on this data", f"{idle:,.0f} MiB")
    table.add_row(f"... after {found:,} contexts read (hot cache)", f"{after:,.0f} MiB")
    Console(width=120).print(table)


if __name__ == "__main__":
    main()
