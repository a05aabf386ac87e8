"""Before any route reads a request: the key first, a bounded body, a deadline for the body,
and a cap and an age for event streams (web.guard, web.sse). A real server on loopback."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.live import API_KEY, TOKEN, LiveServer

AUTH = {"Authorization": f"Bearer {API_KEY}"}
ENV = {
    "USERTRAIL_BODY_TIMEOUT_S": "1",
    "USERTRAIL_MAX_STREAMS": "2",
    "USERTRAIL_STREAM_MAX_S": "2",
}
MARKER = "marker-7f3a-secret-of-the-body"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer(data_dir=tmp_path_factory.mktemp("guard") / "data", env=ENV).start()
    yield live
    live.stop()


def rss_mb(server: LiveServer) -> float:
    assert server.proc is not None
    status = Path(f"/proc/{server.proc.pid}/status").read_text()
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
    assert match
    return int(match.group(1)) / 1024


def megabytes(n: int) -> Iterator[bytes]:
    chunk = b'{"user_id": "' + b"x" * (1024 * 1024 - 13)
    for _ in range(n):
        yield chunk


@pytest.mark.parametrize("path", ["/retrieve", "/assist", "/mcp/"])
def test_a_hundred_megabyte_body_without_a_key_is_401_and_never_held(
    server: LiveServer, path: str
) -> None:
    before = rss_mb(server)
    response = httpx.post(f"{server.url}{path}", content=megabytes(100), timeout=60)
    assert response.status_code == 401
    body = response.json()
    # /mcp says it in JSON-RPC (web.mcp_gate), so MCP clients show the reason.
    assert body.get("code") == "unauthorized" or "wrong API key" in body["error"]["message"]
    assert rss_mb(server) - before < 50


def test_a_body_past_the_limit_is_413_with_a_key(server: LiveServer) -> None:
    for content in (b"x" * (300 * 1024), megabytes(3)):  # declared, and chunked
        response = httpx.post(f"{server.url}/retrieve", content=content, headers=AUTH)
        assert response.status_code == 413
        assert "exceeds" in response.json()["detail"]


def test_a_422_names_the_field_without_echoing_the_body(server: LiveServer) -> None:
    body = {"user_id": MARKER, "query": 5, "k": MARKER}
    response = httpx.post(f"{server.url}/retrieve", json=body, headers=AUTH)
    assert response.status_code == 422
    assert MARKER not in response.text
    assert {tuple(e["loc"]) for e in response.json()["errors"]} >= {("body", "k")}


def test_an_id_breaking_the_rule_in_a_body_is_422_naming_it(server: LiveServer) -> None:
    body = {"user_id": "a\x00b", "query": "why"}
    response = httpx.post(f"{server.url}/retrieve", json=body, headers=AUTH)
    assert response.status_code == 422
    assert "control character" in response.text


def test_mcp_without_a_key_is_401_and_its_get_stream_is_refused(server: LiveServer) -> None:
    started = time.monotonic()
    assert httpx.get(f"{server.url}/mcp/", timeout=5).status_code == 401
    refused = httpx.get(f"{server.url}/mcp/", headers=AUTH, timeout=5)
    assert refused.status_code == 405
    assert refused.headers["allow"] == "POST"
    assert time.monotonic() - started < 3  # answered, not held open


def slow_request(server: LiveServer, head: bytes, sent: bytes) -> bytes:
    """Headers and part of a body, then nothing: what comes back, and how soon."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head + sent)
        sock.settimeout(10)
        return sock.recv(65536)


@pytest.mark.parametrize(
    ("path", "headers"),
    [("/retrieve", f"Authorization: Bearer {API_KEY}\r\n"), (f"/e/?token={TOKEN}", "")],
)
def test_a_body_that_never_finishes_is_408_after_the_deadline(
    server: LiveServer, path: str, headers: str
) -> None:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: x\r\n{headers}"
        "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    ).encode()
    started = time.monotonic()
    answer = slow_request(server, head, b'{"user_id": "u", ')
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert 0.9 < time.monotonic() - started < 5


def test_event_streams_are_capped_and_end_at_their_age(server: LiveServer) -> None:
    url = f"{server.url}/ui/api/stream"
    clients = [httpx.Client(timeout=10, headers=AUTH) for _ in range(3)]
    try:
        with clients[0].stream("GET", url) as one, clients[1].stream("GET", url) as two:
            assert (one.status_code, two.status_code) == (200, 200)
            frames = one.iter_raw(), two.iter_raw()  # kept: a dropped iterator closes its stream
            assert [next(f) for f in frames] == [b": keep-alive\n\n"] * 2  # both counted now
            third = clients[2].get(url)
            assert third.status_code == 503
            assert third.headers["retry-after"]
            started = time.monotonic()
            for _ in frames[0]:
                pass  # the server ends the stream at its age (2 s here)
            assert time.monotonic() - started < 5
        with clients[2].stream("GET", url) as again:
            assert again.status_code == 200  # the places were given back
    finally:
        for client in clients:
            client.close()
