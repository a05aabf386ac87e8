"""Record real SDK request bodies into tests/payloads/ (run by hand when an SDK changes).

    .venv/bin/python -m tests.payloads.record

Both SDKs talk to a real usertrail server through a loopback proxy that keeps each capture body
byte for byte, with a sidecar describing the request. posthog-js (npm's array.full.js) runs in
Debian's chromium twice: as configured by default (gzip) and with `disable_compression` (plain
JSON); each time one event goes by `sendBeacon` (gzip, or the base64 `data=` form).
posthog-python sends the same three calls as JSON and with `gzip=True`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import NamedTuple
from urllib.parse import urlsplit

import httpx
from playwright.sync_api import Page, sync_playwright
from posthog import Posthog

from tests.e2e.browser import launch, page_url, serve_pages
from tests.live import TOKEN, LiveServer

HERE = Path(__file__).parent
SETTLE_S = 1.5  # posthog-js sends on a short timer; nothing of ours is in flight after it
_HOP_HEADERS = {"host", "connection", "keep-alive", "transfer-encoding", "content-length"}


class Captured(NamedTuple):
    target: str
    body: bytes
    headers: dict[str, str]

    def meta(self) -> dict[str, str]:
        url = urlsplit(self.target)
        headers = {k.lower(): v for k, v in self.headers.items()}
        return {
            "path": url.path,
            "query": url.query,
            "content_type": headers.get("content-type", ""),
            "content_encoding": headers.get("content-encoding", ""),
        }


def is_capture(target: str) -> bool:
    return urlsplit(target).path.rstrip("/").endswith(("/e", "/batch"))


class RecordingProxy:
    """Forwards everything to usertrail and keeps each capture body it forwarded.

    Recording on the wire, not through the browser's devtools (which hide `sendBeacon` bodies),
    also proves usertrail accepted every recorded body: a non-200 answer fails the recording.
    """

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.captured: list[Captured] = []
        self.failures: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> RecordingProxy:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def take(self) -> list[Captured]:
        assert not self.failures, self.failures
        taken, self.captured = self.captured, []
        return taken

    def forward(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> httpx.Response:
        answer = httpx.request(method, self.upstream + target, headers=headers, content=body)
        if method == "POST" and is_capture(target):
            if answer.status_code != 200:
                self.failures.append(f"{target}: {answer.status_code} {answer.text}")
            self.captured.append(Captured(target, body, headers))
        return answer

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.relay(b"")

            def do_OPTIONS(self) -> None:
                self.relay(b"")

            def do_POST(self) -> None:
                self.relay(self.rfile.read(int(self.headers.get("Content-Length", "0"))))

            def relay(self, body: bytes) -> None:
                sent = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_HEADERS}
                answer = proxy.forward(self.command, self.path, sent, body)
                self.send_response(answer.status_code)
                for key, value in answer.headers.items():
                    if key.lower() not in _HOP_HEADERS | {"content-encoding"}:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler


def save_all(folder: Path, prefix: str, captured: list[Captured]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, request in enumerate(captured):
        (folder / f"{prefix}_{i:02d}.bin").write_bytes(request.body)
        (folder / f"{prefix}_{i:02d}.json").write_text(json.dumps(request.meta(), indent=2) + "\n")


def clear(folder: Path) -> None:
    for old in (*folder.glob("*.bin"), *folder.glob("*.json")):
        old.unlink()


def browse_default(page: Page) -> None:
    page.click("text=Upgrade to Pro")
    time.sleep(SETTLE_S)
    page.evaluate("posthog.identify('user_42', {plan: 'free'})")
    time.sleep(SETTLE_S)
    page.evaluate(
        "posthog.capture('plan_compared', {plans: 2, price: '9 €'}, {transport: 'sendBeacon'})"
    )


def browse_uncompressed(page: Page) -> None:
    page.evaluate("posthog.capture('plan_compared', {plans: 2})")
    time.sleep(SETTLE_S)
    page.evaluate(
        "posthog.capture('plan_compared', {plans: 3, price: '9 €'}, {transport: 'sendBeacon'})"
    )


def browse(origin: str, api_host: str, steps: Callable[[Page], None], **options: str) -> None:
    with sync_playwright() as pw:
        browser = launch(pw)
        page = browser.new_page()
        page.goto(page_url(origin, api_host, **options))
        page.wait_for_function("window.__posthogLoaded === true", timeout=15_000)
        time.sleep(SETTLE_S)
        steps(page)
        time.sleep(SETTLE_S)
        browser.close()


def record_posthog_js(proxy: RecordingProxy) -> None:
    folder = HERE / "posthog_js"
    clear(folder)
    with serve_pages() as origin:
        browse(origin, proxy.url, browse_default)
        save_all(folder, "gzip", proxy.take())
        browse(origin, proxy.url, browse_uncompressed, disable_compression="1")
        save_all(folder, "plain", proxy.take())


def send_python_events(host: str, gzip: bool) -> None:
    client = Posthog(TOKEN, host=host, sync_mode=True, gzip=gzip)
    client.capture("feature_used", distinct_id="user_42", properties={"feature": "export"})
    client.capture(
        "$pageview",
        distinct_id="user_42",
        properties={"$current_url": "https://app.acme.test/settings/billing"},
    )
    client.set(distinct_id="user_42", properties={"plan": "pro"})


def record_posthog_python(proxy: RecordingProxy) -> None:
    folder = HERE / "posthog_python"
    clear(folder)
    for gzip in (False, True):
        send_python_events(proxy.url, gzip)
        save_all(folder, "gzip" if gzip else "json", proxy.take())


def main() -> None:
    with TemporaryDirectory() as tmp:
        server = LiveServer(data_dir=Path(tmp)).start()
        try:
            with RecordingProxy(server.url) as proxy:
                record_posthog_js(proxy)
                record_posthog_python(proxy)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
