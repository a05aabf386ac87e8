"""wrk on loopback: run it bounded in time, parse its throughput, latency and errors."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

LUA = Path(__file__).with_name("capture.lua")
_UNIT = {"us": 1e-3, "ms": 1.0, "s": 1e3}


@dataclass(frozen=True)
class Scenario:
    name: str
    path: str
    batch: int  # events per request
    connections: int


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


def run(
    url: str, scenario: Scenario, seconds: int, args: list[str], env: dict[str, str] | None = None
) -> Result:
    """wrk with one thread, `scenario.connections` connections, for `seconds`."""
    cmd = ["wrk", "-t1", f"-c{scenario.connections}", f"-d{seconds}s", "--timeout", "10s"]
    out = subprocess.run(
        [*cmd, "--latency", *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    ).stdout
    return Result(
        scenario,
        _number(out, r"Requests/sec:\s+([\d.]+)"),
        _latency(out, "50%"),
        _latency(out, "99%"),
        _errors(out),
    )


def capture(url: str, scenario: Scenario, seconds: int, token: str) -> Result:
    """POST capture requests with unique uuids (bench/capture.lua), as an SDK would."""
    env = {"UT_TOKEN": token, "UT_PATH": scenario.path, "UT_BATCH": str(scenario.batch)}
    return run(url, scenario, seconds, ["-s", str(LUA), url], env)


def webhook(url: str, scenario: Scenario, seconds: int, secret: str) -> Result:
    """POST PostHog's HTTP Webhook body, one event per request, with the shared secret."""
    env = {"UT_SECRET": secret, "UT_PATH": scenario.path, "UT_BATCH": "1"}
    return run(url, scenario, seconds, ["-s", str(LUA), url], env)


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
