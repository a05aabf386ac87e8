"""Interleaved A/B of capture: this tree against another source tree, same wrk load.

On a shared 2-core machine a figure moves by tens of percent between minutes, so the old and
new servers run alternately, round after round, each on a fresh data dir, with the minimal
ASGI app's rate measured in every round. The old tree is any checkout's `src/`, e.g.
`git archive main | tar -x -C /tmp/old` then
`python -m bench.capture_ab --old-src /tmp/old/src [--rounds 2] [--seconds 5]`.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from tests.live import TOKEN, LiveServer

from bench import wrk
from bench.capacity import load
from bench.ceilings import minimal_server
from bench.wrk import Scenario

ROLES = {"ingest": "serve --role ingest", "all": "serve (all-in-one)"}


def scenarios(connections: int) -> list[Scenario]:
    single = [Scenario(p, p, 1, connections) for p in ("/e/", "/webhooks/posthog")]
    return single if connections == 1 else [*single, Scenario("/batch/ x50", "/batch/", 50, 16)]


def run_server(env: dict[str, str], connections: int, seconds: int) -> list[wrk.Result]:
    with tempfile.TemporaryDirectory() as tmp:
        live = LiveServer(data_dir=Path(tmp), env={**env, "USERTRAIL_DEMO": "0"}).start()
        try:
            return [load(live.url, s, seconds) for s in scenarios(connections)]
        finally:
            live.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--old-src", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, nargs="+", default=[32, 1])
    args = parser.parse_args()
    old = {"PYTHONPATH": str(args.old_src.resolve())}
    for connections in args.connections:
        for n in range(args.rounds):
            with minimal_server() as url:
                ceiling = wrk.capture(
                    url, Scenario("/e/", "/e/", 1, connections), args.seconds, TOKEN
                )
            print(
                f"round {n} conns {connections}: minimal ASGI app {ceiling.requests_per_s:,.0f} "
                f"req/s, p50 {ceiling.p50_ms:.2f} p99 {ceiling.p99_ms:.2f} ms",
                flush=True,
            )
            for role, name in ROLES.items():
                for tree, env in (("old", old), ("new", {})):
                    results = run_server({**env, "USERTRAIL_ROLE": role}, connections, args.seconds)
                    for r in results:
                        print(
                            f"  {tree} {name:20} {r.scenario.name:18} {r.events_per_s:8,.0f} "
                            f"events/s  p50 {r.p50_ms:6.2f}  p99 {r.p99_ms:7.2f} ms  "
                            f"{r.errors} errors",
                            flush=True,
                        )


if __name__ == "__main__":
    main()
