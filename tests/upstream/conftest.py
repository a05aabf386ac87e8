"""A PostHog stand-in on loopback, and a usertrail server that relays and proxies to it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.live import LiveServer
from tests.posthog_standin import StandIn

# Fast retries: an outage in a test lasts seconds, not the minute a real backoff allows.
RELAY_ENV = {"USERTRAIL_DEMO": "0", "USERTRAIL_RELAY_RETRY_MAX_S": "1"}


@pytest.fixture
def relaying(tmp_path: Path, posthog: StandIn) -> Iterator[LiveServer]:
    server = LiveServer(
        tmp_path / "ut", env={**RELAY_ENV, "USERTRAIL_POSTHOG_HOST": posthog.url}
    ).start()
    try:
        yield server
    finally:
        server.stop()


def metric(server: LiveServer, name: str) -> float:
    """A sample's value on /metrics (0 when absent), e.g. `usertrail_relay_events_total{...}`."""
    for line in httpx.get(f"{server.url}/metrics").text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0
