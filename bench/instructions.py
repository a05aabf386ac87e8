"""CPU per request in instructions, which a shared machine cannot disturb (unlike req/s).

Each server runs under `valgrind --tool=callgrind`; after a warm-up, a fixed client sends N
requests and then 2N (unique uuids, keep-alive, `--conns` connections), with a callgrind dump
after each: Ir/request = (Ir of the 2N dump - Ir of the N dump) / N, so what does not grow
with the load (start-up, the warm-up, idle ticks) cancels out. Printed for single-event
`POST /e/` (bench/capture.lua's body), `POST /webhooks/posthog` (PostHog's HTTP Webhook body)
on `usertrail serve --role ingest` with a fresh data dir, and for bench.minimal_app under
the same uvicorn: the ceiling, and the ratio to it (Ir are not wall time, but CPU-bound
processes on one core go as their Ir). Run: `python -m bench.instructions [--conns 1 16]`.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
from tests.live import TOKEN, WEBHOOK_SECRET, free_port

ROOT = Path(__file__).parents[1]
VALGRIND = ("valgrind", "--tool=callgrind", "--separate-threads=no", "--dump-instr=no")
_counter = itertools.count()


@dataclass(frozen=True)
class Route:
    name: str
    path: str
    headers: dict[str, str]
    body: Callable[[], bytes]


def _uuid() -> str:
    return f"0190f6c2-0000-7000-8000-{next(_counter):012x}"


def capture_body() -> bytes:
    """One posthog-js-style event with its token, as bench/capture.lua sends to /e/."""
    n = next(_counter)
    return orjson.dumps(
        {
            "event": "$autocapture",
            "uuid": _uuid(),
            "distinct_id": f"user_{n % 1000}",
            "timestamp": "2026-11-24T10:00:00Z",
            "properties": {
                "$current_url": "https://app.acme.test/settings/billing",
                "$session_id": f"s_{n % 5000}",
                "$event_type": "click",
                "$elements_chain": 'button.btn:text="Upgrade"nth-child="1";'
                'div.plan-card:attr__data-ph-component="plan-picker"',
            },
            "api_key": TOKEN,
        }
    )


def webhook_body() -> bytes:
    """PostHog's HTTP Webhook destination's default body, as bench/capture.lua sends it."""
    n = next(_counter)
    return orjson.dumps(
        {
            "event": {
                "uuid": _uuid(),
                "event": "$autocapture",
                "distinct_id": f"user_{n % 1000}",
                "properties": {
                    "$current_url": "https://app.acme.test/settings/billing",
                    "$session_id": f"s_{n % 5000}",
                    "$event_type": "click",
                },
                "elements_chain": 'button.btn:text="Upgrade"nth-child="1"',
                "timestamp": "2026-11-24T10:00:00.000Z",
                "url": "https://eu.posthog.com/events/x",
            },
            "person": {
                "id": f"p-{n % 1000}",
                "properties": {"email": f"u{n % 1000}@example.com", "plan": "free"},
                "name": "U",
                "url": "x",
            },
        }
    )


JSON = {"Content-Type": "application/json"}
ROUTES = (
    Route("/e/", "/e/", JSON, capture_body),
    Route(
        "/webhooks/posthog",
        "/webhooks/posthog",
        {**JSON, "Authorization": f"Bearer {WEBHOOK_SECRET}"},
        webhook_body,
    ),
)


def request_bytes(route: Route, port: int) -> bytes:
    body = route.body()
    head = [f"POST {route.path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    head += [f"{k}: {v}" for k, v in route.headers.items()]
    head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def _connection(route: Route, port: int, count: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for _ in range(count):
            writer.write(request_bytes(route, port))
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"{route.path}: {head!r}")
            length = re.search(rb"(?i)content-length: (\d+)", head)
            await reader.readexactly(int(length.group(1)) if length else 0)
    finally:
        writer.close()


def send(route: Route, port: int, total: int, conns: int) -> None:
    """`total` requests over `conns` keep-alive connections, each waiting for its answer."""

    async def run() -> None:
        share = [total // conns + (i < total % conns) for i in range(conns)]
        await asyncio.gather(*(_connection(route, port, n) for n in share if n))

    asyncio.run(run())


@contextmanager
def under_callgrind(cmd: list[str], probe: str, env: dict[str, str], out: Path) -> Iterator[int]:
    """`cmd` under callgrind, ready (GET `probe` answered); yields its pid."""
    proc = subprocess.Popen(
        [*VALGRIND, f"--callgrind-out-file={out}/cg.%p", *cmd],
        env={**os.environ, "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}", **env},
        stdout=subprocess.DEVNULL,
        stderr=(out / "valgrind.log").open("wb"),
    )
    try:
        deadline = time.monotonic() + 600
        while True:
            try:
                httpx.get(probe, timeout=5)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((out / "valgrind.log").read_text()[-3000:]) from None
                time.sleep(0.5)
        yield proc.pid
    finally:
        proc.terminate()
        proc.wait(60)


def dump_ir(pid: int, out: Path) -> int:
    """Dump callgrind's counters (and reset them); the Ir since the previous dump."""
    before = set(out.glob(f"cg.{pid}.*"))
    subprocess.run(["callgrind_control", "-d", str(pid)], check=True, capture_output=True)
    (new,) = set(out.glob(f"cg.{pid}.*")) - before
    match = re.search(r"^(?:summary|totals): (\d+)", new.read_text(), re.MULTILINE)
    assert match, new
    return int(match.group(1))


def ir_per_request(pid: int, route: Route, port: int, n: int, conns: int, out: Path) -> float:
    send(route, port, n // 4, conns)  # warm-up: imports, caches, the first group commits
    dump_ir(pid, out)
    send(route, port, n, conns)
    once = dump_ir(pid, out)
    send(route, port, 2 * n, conns)
    return (dump_ir(pid, out) - once) / n


def usertrail_cmd(port: int, data_dir: Path) -> list[str]:
    serve = ["serve", "--role", "ingest", "--port", str(port), "--data-dir", str(data_dir)]
    return [sys.executable, "-m", "usertrail", *serve]


def minimal_cmd(port: int) -> list[str]:
    uvicorn = ["bench.minimal_app:app", "--port", str(port), "--log-level", "warning"]
    return [sys.executable, "-m", "uvicorn", *uvicorn, "--no-access-log"]


def measure_usertrail(route: Route, n: int, conns: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        port, out = free_port(), Path(tmp)
        env = {"USERTRAIL_PROJECT_TOKEN": TOKEN, "USERTRAIL_WEBHOOK_SECRET": WEBHOOK_SECRET}
        cmd = usertrail_cmd(port, out / "data")
        with under_callgrind(cmd, f"http://127.0.0.1:{port}/readyz", env, out) as pid:
            return ir_per_request(pid, route, port, n, conns, out)


def measure_minimal(n: int, conns: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        port, out = free_port(), Path(tmp)
        with under_callgrind(minimal_cmd(port), f"http://127.0.0.1:{port}/", {}, out) as pid:
            return ir_per_request(pid, ROUTES[0], port, n, conns, out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=1000, help="requests in the first round")
    parser.add_argument("--conns", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--routes", nargs="+", default=[r.name for r in ROUTES])
    parser.add_argument("--no-minimal", action="store_true")
    args = parser.parse_args()
    for conns in args.conns:
        ceiling = None if args.no_minimal else measure_minimal(args.n, conns)
        if ceiling:
            print(f"minimal app, {conns} conns: {ceiling:,.0f} Ir/request", flush=True)
        for route in (r for r in ROUTES if r.name in args.routes):
            ir = measure_usertrail(route, args.n, conns)
            share = f", {ceiling / ir:.1%} of the minimal app's rate" if ceiling else ""
            print(f"{route.name}, {conns} conns: {ir:,.0f} Ir/request{share}", flush=True)


if __name__ == "__main__":
    main()
