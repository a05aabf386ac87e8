from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live import TOKEN, LiveServer
from tests.posthog_standin import StandIn


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    server = LiveServer(data_dir=tmp_path / "data").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def posthog() -> Iterator[StandIn]:
    """A PostHog stand-in on loopback (tests/posthog_standin.py) that knows the test token."""
    standin = StandIn(tokens={TOKEN}).start()
    try:
        yield standin
    finally:
        standin.stop()
