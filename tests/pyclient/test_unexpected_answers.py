"""A 2xx answer the client cannot read (a proxy's sign-in page, bytes that are not UTF-8, JSON
of another shape) raises the client's own UnexpectedAnswer, never a decoder's error: from a
real HTTP server on loopback, for the sync and the async client."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from usertrail.client import AsyncUsertrail, UnexpectedAnswer, Usertrail

ODD_USER = "ünï/cødé?#\u202e"
# Each call, and a 200 body it cannot read.
CASES: list[tuple[str, str, bytes]] = [
    ("user_context", "html", b"<html><body>Sign in \xc3\xbc</body></html>"),
    ("user_context", "another shape", b'{"user": "u_42", "recent_events": 3}'),
    ("user_prompt", "not UTF-8", b"## What this user did \xff\xfe"),
    ("export_person", "not an object", b"[1, 2]"),
]


@pytest.fixture(scope="module")
def answering() -> Iterator[Callable[[bytes], str]]:
    """A loopback server answering every GET 200 with the body last set; returns its URL."""
    body = [b""]

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body[0])))
            self.end_headers()
            self.wfile.write(body[0])

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def answer(data: bytes) -> str:
        body[0] = data
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield answer
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("call", "body"), [(c, b) for c, _, b in CASES], ids=[i for _, i, _ in CASES]
)
def test_an_answer_the_sync_client_cannot_read_raises_unexpected_answer(
    answering: Callable[[bytes], str], call: str, body: bytes
) -> None:
    with Usertrail(answering(body), "utk_key") as client, pytest.raises(UnexpectedAnswer) as raised:
        getattr(client, call)(ODD_USER)
    assert raised.value.status == 200


@pytest.mark.parametrize(
    ("call", "body"), [(c, b) for c, _, b in CASES], ids=[i for _, i, _ in CASES]
)
def test_an_answer_the_async_client_cannot_read_raises_unexpected_answer(
    answering: Callable[[bytes], str], call: str, body: bytes
) -> None:
    async def ask() -> None:
        async with AsyncUsertrail(answering(body), "utk_key") as client:
            await getattr(client, call)(ODD_USER)

    with pytest.raises(UnexpectedAnswer, match="not the answer GET /"):
        asyncio.run(ask())
