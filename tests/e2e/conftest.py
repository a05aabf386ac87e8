"""Real browser fixtures: Debian's chromium driven by Playwright, pages on their own origin."""

from __future__ import annotations

import functools
import os
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.live import LiveServer

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).parents[2]
POSTHOG_JS = ROOT / "node_modules" / "posthog-js" / "dist"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def _missing(what: str) -> None:
    if os.environ.get("USERTRAIL_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{what} is required (USERTRAIL_REQUIRE_SERVICES=1)")
    pytest.skip(f"{what} is not installed")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        _missing(CHROMIUM)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def page_origin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Test pages and posthog-js from npm, served from another origin than usertrail."""
    if not (POSTHOG_JS / "module.js").is_file():
        _missing("posthog-js (npm ci)")
    root = tmp_path_factory.mktemp("pages")
    shutil.copytree(Path(__file__).parent / "pages", root, dirs_exist_ok=True)
    (root / "posthog-js").symlink_to(POSTHOG_JS)
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def usertrail(tmp_path: Path) -> Iterator[LiveServer]:
    server = LiveServer(data_dir=tmp_path / "data").start()
    yield server
    server.stop()
