"""Debian's chromium and a static site on its own loopback origin, shared by tests and recorders.

The test pages and posthog-js's `dist/` (from npm, never copied into the repo) are served from
a different port than usertrail, so the SDK talks to usertrail cross-origin, as on a real site.
"""

from __future__ import annotations

import functools
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode

from playwright.sync_api import Browser, Playwright

from tests.live import TOKEN

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).parents[2]
POSTHOG_JS = ROOT / "node_modules" / "posthog-js" / "dist"
PAGES = Path(__file__).parent / "pages"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def launch(pw: Playwright) -> Browser:
    return pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serve_pages() -> Iterator[str]:
    """Yield the origin of a static server holding pages/ and posthog-js/ (npm's dist/)."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shutil.copytree(PAGES, root, dirs_exist_ok=True)
        (root / "posthog-js").symlink_to(POSTHOG_JS)
        handler = functools.partial(_QuietHandler, directory=str(root))
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()
            thread.join(5)


def page_url(origin: str, api_host: str, page: str = "app.html", **options: str) -> str:
    """The test page, told which usertrail to talk to (and any init options) by its URL."""
    return f"{origin}/{page}?{urlencode({'token': TOKEN, 'api_host': api_host, **options})}"
