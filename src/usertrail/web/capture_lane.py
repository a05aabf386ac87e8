"""Capture and webhook POSTs answered in front of FastAPI, the way the routes answer them.

Single-event requests are most of what browsers and PostHog's webhook destination send, and
for those FastAPI's middleware stack and routing cost more CPU than the capture itself
(py-spy under `wrk` on `--role ingest`). So does Starlette's per-request machinery: a Request,
header lookups that each scan the list, the body as an async generator, a Response, CORS
wrapping `send`. This lane works on the ASGI scope itself: the few headers it reads picked in
one pass, the body read under one deadline (web.guard's, for the whole body) and the 20 MB
limit (web.capture's), the same ingest calls as the routes (web.capture, web.webhook), and
the answer sent as two messages with the same CORS headers as the app's middleware (its own
class and options decide them). Refusals are the same problem details, counted
(web.problems), and the request is timed under the same route group.
Any other method or path goes on to the app unchanged; durability is ingest's: the 2xx
follows the commit.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import orjson
import structlog
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from usertrail.deadlines import TaskDeadlines
from usertrail.errors import PayloadTooLarge, RequestTimeout, UsertrailError
from usertrail.web import capture, webhook
from usertrail.web.problems import crashed, refused
from usertrail.web.responses import CAPTURE_OK
from usertrail.web.timing import route_group

if TYPE_CHECKING:
    from usertrail.front import Services

log = structlog.get_logger("usertrail.web")
Headers = dict[str, str]
# What a lane answers with: the request's scope, its headers and body -> the 200 body.
Answer = Callable[["Services", Scope, Headers, bytes], Awaitable[bytes]]
# posthog-js sends credentials, so the origin must be echoed, never "*".
CORS_OPTIONS = {
    "allow_origin_regex": ".*",
    "allow_credentials": True,
    "allow_methods": ["GET", "POST", "OPTIONS"],
    "allow_headers": ["*"],
}
# The request headers the lane reads; the first of each counts, as Starlette's lookup does.
_READ = ("content-type", "content-encoding", "content-length", "origin", "authorization")
READ_HEADERS = frozenset(name.encode() for name in (*_READ, *webhook.SECRET_HEADERS))
JSON = (b"content-type", b"application/json")


async def _capture(services: Services, scope: Scope, headers: Headers, body: bytes) -> bytes:
    await services.ingest.capture(capture.capture_request_of(scope, headers, body))
    return CAPTURE_OK


async def _webhook(services: Services, scope: Scope, headers: Headers, body: bytes) -> bytes:
    req = capture.capture_request_of(scope, headers, body)
    result = await services.ingest.webhook(webhook.webhook_secret(headers), req)
    return orjson.dumps(webhook.webhook_answer(result))


def lane_routes() -> dict[str, Answer]:
    """Each path with and without its trailing slash, as the app routes them."""
    routes: dict[str, Answer] = {}
    for path in capture.CAPTURE_PATHS:
        routes[path] = routes[path + "/"] = _capture
    for path in ("/webhooks/posthog", "/webhooks/posthog/"):
        routes[path] = _webhook
    return routes


class CaptureLane:
    def __init__(self, app: ASGIApp, services: Services, timeout_s: float) -> None:
        self.app = app
        self._services = services
        self._deadlines = TaskDeadlines(timeout_s)
        self._cors = CORSMiddleware(app, **CORS_OPTIONS)  # type: ignore[arg-type]
        self._lanes = {
            path: self._answering(path, answer) for path, answer in lane_routes().items()
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            lane = self._lanes.get(scope["path"])
            if lane is not None:
                await lane(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _answering(self, path: str, answer: Answer) -> ASGIApp:
        timer = self._services.metrics.request_seconds.labels(route_group(path))

        async def lane(scope: Scope, receive: Receive, send: Send) -> None:
            started = time.perf_counter()
            headers = read_headers(scope)
            cors = cors_headers(self._cors, headers.get("origin"))
            refusal: Response | None = None
            try:
                body = await receive_body(receive, headers.get("content-length"), self._deadlines)
                content = await answer(self._services, scope, headers, body)
            except UsertrailError as exc:
                refusal = refused(self._services.metrics, scope, exc)
            except Exception:  # as the app answers a crash: a problem, the traceback logged
                log.exception("request_failed", path=path)
                refusal = crashed(scope)
            try:
                if refusal is None:
                    await send_json(send, content, cors)
                else:
                    refusal.raw_headers += cors
                    await refusal(scope, receive, send)
            finally:
                timer.observe(time.perf_counter() - started)

        return lane


def read_headers(scope: Scope) -> Headers:
    """The headers the lane reads, in one pass over the scope's (ASGI names are lowercase)."""
    found: Headers = {}
    for name, value in scope["headers"]:
        if name in READ_HEADERS:
            found.setdefault(name.decode("latin-1"), value.decode("latin-1"))
    return found


async def receive_body(
    receive: Receive,
    declared: str | None,
    deadlines: TaskDeadlines,
    limit: int = capture.MAX_BODY_BYTES,
) -> bytes:
    """The whole body, by the deadline (408) and within the limit (413), as web.capture's
    read_body and web.guard's deadline give the routes; one deadline for the whole body."""
    capture.refuse_declared(declared, limit)
    chunks, size, more = [], 0, True
    try:
        with deadlines.bound():
            while more:
                message = await receive()
                if message["type"] != "http.request":
                    raise ClientDisconnect()
                chunks.append(message.get("body", b""))
                size += len(chunks[-1])
                if size > limit:
                    raise PayloadTooLarge(f"request body exceeds {limit} bytes")
                more = message.get("more_body", False)
    except TimeoutError:
        raise RequestTimeout("the request body did not arrive in time") from None
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def send_json(send: Send, content: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    """A 200 JSON answer, as starlette's Response sends it."""
    length = (b"content-length", str(len(content)).encode())
    await send({"type": "http.response.start", "status": 200, "headers": [length, JSON, *headers]})
    await send({"type": "http.response.body", "body": content})


def cors_headers(cors: CORSMiddleware, origin: str | None) -> list[tuple[bytes, bytes]]:
    """What the app's CORS middleware adds to a simple (non-preflight) answer."""
    vary = (b"vary", b"Origin")
    if origin is None:
        return [vary]
    added = [
        (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in cors.simple_headers.items()
    ]
    explicit = cors.allow_credentials if cors.allow_all_origins else cors.is_allowed_origin(origin)
    if explicit:
        added.append((b"access-control-allow-origin", origin.encode("latin-1")))
    return [*added, vary]
