"""Record real SDK request bodies into tests/payloads/ (run by hand when an SDK changes).

    .venv/bin/python -m tests.payloads.record

posthog-js runs in Debian's chromium against a real usertrail server; posthog-python posts to
it directly. Each body is saved byte for byte, with a sidecar describing the request.
"""

from __future__ import annotations

import functools
import json
import shutil
import tempfile
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlencode, urlsplit

from playwright.sync_api import Request, sync_playwright
from posthog import Posthog

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, POSTHOG_JS
from tests.live import TOKEN, LiveServer

HERE = Path(__file__).parent


def save(folder: Path, name: str, body: bytes, meta: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.bin").write_bytes(body)
    (folder / f"{name}.json").write_text(json.dumps(meta, indent=2) + "\n")


def record_posthog_js(server: LiveServer) -> None:
    root = Path(tempfile.mkdtemp())
    shutil.copytree(HERE.parent / "e2e" / "pages", root, dirs_exist_ok=True)
    (root / "posthog-js").symlink_to(POSTHOG_JS)
    pages = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(SimpleHTTPRequestHandler, directory=str(root))
    )
    threading.Thread(target=pages.serve_forever, daemon=True).start()
    seen: list[Request] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.on(
            "request",
            lambda r: (
                seen.append(r) if r.url.startswith(server.url) and r.method == "POST" else None
            ),
        )
        query = urlencode({"token": TOKEN, "api_host": server.url})
        page.goto(f"http://127.0.0.1:{pages.server_address[1]}/app.html?{query}")
        page.wait_for_function("window.__posthogLoaded === true")
        page.click("text=Upgrade to Pro")
        time.sleep(1.5)
        page.evaluate("window.posthog.identify('user_42', {plan: 'free'})")
        time.sleep(1.5)
        browser.close()
    pages.shutdown()
    for i, request in enumerate(r for r in seen if "/flags" not in r.url):
        url = urlsplit(request.url)
        save(
            HERE / "posthog_js",
            f"capture_{i:02d}",
            request.post_data_buffer or b"",
            {
                "path": url.path,
                "query": url.query,
                "content_type": request.headers.get("content-type", ""),
                "content_encoding": request.headers.get("content-encoding", ""),
            },
        )


class _Recorder(SimpleHTTPRequestHandler):
    """Answers like PostHog and keeps every body it was sent."""

    captured: ClassVar[list[tuple[bytes, dict[str, str]]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.captured.append((body, dict(self.headers)))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'{"status": 1}')

    def log_message(self, format: str, *args: object) -> None:
        pass


def record_posthog_python() -> None:
    for gzip in (False, True):
        _Recorder.captured = []
        recorder = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
        threading.Thread(target=recorder.serve_forever, daemon=True).start()
        client = Posthog(
            TOKEN, host=f"http://127.0.0.1:{recorder.server_address[1]}", sync_mode=True, gzip=gzip
        )
        client.capture("feature_used", distinct_id="user_42", properties={"feature": "export"})
        client.capture(
            "$pageview",
            distinct_id="user_42",
            properties={"$current_url": "https://app.acme.test/settings/billing"},
        )
        client.set(distinct_id="user_42", properties={"plan": "pro"})
        recorder.shutdown()
        for i, (body, headers) in enumerate(_Recorder.captured):
            save(
                HERE / "posthog_python",
                f"{'gzip' if gzip else 'json'}_{i:02d}",
                body,
                {
                    "path": "/batch/",
                    "query": "",
                    "content_type": headers.get("Content-Type", ""),
                    "content_encoding": headers.get("Content-Encoding", ""),
                },
            )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = LiveServer(data_dir=Path(tmp)).start()
        try:
            record_posthog_js(server)
        finally:
            server.stop()
        record_posthog_python()


if __name__ == "__main__":
    main()
