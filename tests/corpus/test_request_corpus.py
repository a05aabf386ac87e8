"""The rest of the HTTP edge, malformed, on SQLite and PostgreSQL: impossible ids in every
route that takes one (NUL, `/`, percent encodings, 10 kB), huge numbers in every numeric
parameter, unauthenticated 100 MB bodies and bodies that never finish. Every answer is a
clear 4xx (or a 2xx/404 where the request is valid), never a 5xx or a dropped connection;
memory stays bounded and the server stays up."""

from __future__ import annotations

import asyncio
import itertools
import socket
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.backends import pg_schema_url
from tests.corpus.test_capture_corpus import peak_rss_mb
from tests.live import API_KEY, TOKEN, LiveServer

AUTH = {"Authorization": f"Bearer {API_KEY}"}
CREDENTIALS = [AUTH, {}, {"Authorization": "Bearer utk_wrong"}, {"Authorization": TOKEN}]
ENV = {"USERTRAIL_READ_RATE_PER_S": "0", "USERTRAIL_BODY_TIMEOUT_S": "2"}
URL_IDS = [
    "%00", "a%00b", "%1F", "%7F", "%0A", "x" * 10_000, "%C3%A9" * 300, "%20", "%09",
    "a/b", "a%2Fb", "a%252Fb", "%2e%2e", "%ZZ", "%C3%28", "%FF", "jos%C3%A9", "%F0%9F%98%80",
    "a%3Fb", "%23", "?", "..%2F..%2Fetc", "%E2%80%AE", "a;b", "a,b",
]  # fmt: skip
ID_ROUTES = [
    ("GET", "/context/user/{}"),
    ("GET", "/context/user/{}?format=markdown"),
    ("GET", "/context/user/{}/stream"),
    ("GET", "/actions/user/{}"),
    ("GET", "/persons/{}/export"),
    ("DELETE", "/persons/{}"),
    ("GET", "/ui/api/person/{}"),
    ("GET", "/ui/api/event/{}"),
    ("GET", "/demo/api/context/{}"),
]
NUMBERS = ["9" * 5000, "-1", "1e309", "NaN", "0x10", "１２", "99999999999999999999", ""]
NUMERIC = [
    ("/context/user/u1", "n"),
    ("/context/user/u1", "max_tokens"),
    ("/context/user/u1/stream", "n"),
    ("/ui/api/active", "minutes"),
    ("/ui/api/active", "limit"),
    ("/demo/api/context/u1", "n"),
    (f"/e/?token={TOKEN}", "_"),
]
BODY_ROUTES = ["/retrieve", "/assist", "/mcp/", "/ui/login", "/webhooks/posthog", "/e/"]


def requests() -> Iterator[tuple[str, str, dict[str, str]]]:
    for (method, route), raw_id, cred in itertools.product(ID_ROUTES, URL_IDS, CREDENTIALS):
        yield method, route.format(raw_id), cred
    for (path, param), number, cred in itertools.product(NUMERIC, NUMBERS, CREDENTIALS[:2]):
        joiner = "&" if "?" in path else "?"
        yield "GET", f"{path}{joiner}{param}={number}", cred


async def send_all(url: str) -> Counter[int]:
    statuses: Counter[int] = Counter()
    work = iter(list(requests()))
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:

        async def worker() -> None:
            for method, path, headers in work:
                try:
                    async with client.stream(method, path, headers=headers) as response:
                        statuses[response.status_code] += 1  # a stream's head is enough
                except httpx.TransportError:
                    statuses[0] += 1

        await asyncio.gather(*(worker() for _ in range(8)))
    return statuses


def hundred_megabytes() -> Iterator[bytes]:
    chunk = b"[" + b"0," * (512 * 1024)
    for _ in range(100):
        yield chunk


def slow_body(server: LiveServer, path: str, headers: str = "") -> bytes:
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\n{headers}Content-Length: 5000\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=15) as sock:
        sock.sendall(head.encode() + b'{"a": ')
        return sock.recv(4096)


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    if request.param == "sqlite":
        live = LiveServer(data_dir=tmp_path / "data", env=ENV).start()
        yield live
        live.stop()
        return
    with pg_schema_url() as url:
        live = LiveServer(data_dir=tmp_path / "data", env={**ENV, "USERTRAIL_DATABASE_URL": url})
        live.start()
        try:
            yield live
        finally:
            live.stop()


@pytest.mark.timeout(600)
def test_malformed_requests_at_every_route_get_4xx_never_5xx(server: LiveServer) -> None:
    httpx.post(f"{server.url}/e/?token={TOKEN}", json={"event": "e", "distinct_id": "u1"})
    statuses = asyncio.run(send_all(server.url))
    print(f"\n{sum(statuses.values())} requests: {dict(sorted(statuses.items()))}")
    assert sum(statuses.values()) >= 1000
    assert not [s for s in statuses if s == 0 or s >= 500], statuses

    before = peak_rss_mb(server)
    for path in BODY_ROUTES:
        response = httpx.post(f"{server.url}{path}", content=hundred_megabytes(), timeout=60)
        assert 400 <= response.status_code < 500, (path, response.status_code)
    assert peak_rss_mb(server) - before < 150  # 600 MB sent, never held

    started = time.monotonic()
    for path, headers in [
        ("/retrieve", f"Authorization: Bearer {API_KEY}\r\n"),
        (f"/e/?token={TOKEN}", ""),
        ("/webhooks/posthog", ""),
        ("/ui/login", ""),
    ]:
        assert slow_body(server, path, headers).startswith(b"HTTP/1.1 408"), path
    assert time.monotonic() - started < 4 * 5

    assert server.proc is not None
    assert server.proc.poll() is None
    assert httpx.get(f"{server.url}/healthz").status_code == 200
    assert "Traceback" not in server.log_path.read_text(errors="replace")
