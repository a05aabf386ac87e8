"""GET /context/user/{id} answered from the context cache, in front of the whole app.

A chatbot reads its user's context on every message, and almost every read is a cache hit.
For a hit, FastAPI's middleware stack, routing, validation and dependency resolution were
most of the request's CPU (py-spy under bench.context: at 64 clients the server answered
about 15,000 hits/s with the lane inside the middleware stack and 27,000-28,000 outside it,
where it stands now). This lane answers a hit with the cached bytes. Anything else goes on
to the app unchanged: a miss (the route builds and caches), a missing or wrong key (the
route's 401), a query it does not recognise exactly (the route's validation), and any
request from a browser (an Origin header: the app's CORS middleware answers those).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Receive, Scope, Send

from usertrail.authorization import bearer
from usertrail.core.context.build import TOKENS_MAX, TOKENS_MIN, ContextOptions
from usertrail.errors import UsertrailError
from usertrail.web.context_api import MEDIA_TYPES, N_MAX
from usertrail.web.problems import refused
from usertrail.web.timing import observe

if TYPE_CHECKING:
    from usertrail.wiring import Runtime

PREFIX = "/context/user/"


class CachedContextLane:
    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self._runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        if (
            scope["type"] == "http"
            and scope["method"] == "GET"
            and scope["path"].startswith(PREFIX)
            and await self._answered(scope, receive, send)
        ):
            observe(self._runtime.metrics, "context", started)
            return
        await self.app(scope, receive, send)

    async def _answered(self, scope: Scope, receive: Receive, send: Send) -> bool:
        user_id = scope["path"][len(PREFIX) :]
        options = parse_query(scope["query_string"])
        if not user_id or "/" in user_id or options is None:
            return False  # another route (/stream), or the route's own validation answers
        headers = dict(scope["headers"])  # ASGI servers lowercase header names
        if b"origin" in headers:
            return False
        service = self._runtime.context
        authorization = headers.get(b"authorization", b"").decode("latin-1")
        project = await service.lookup_key(bearer(authorization))
        if project is None:
            return False
        if (hit := service.cache.get((project.id, user_id, options))) is None:
            return False
        try:
            service.limiter.admit(project.id)
        except UsertrailError as exc:
            await refused(self._runtime.metrics, scope, exc)(scope, receive, send)
            return True
        body = hit.body(options.format)
        start = {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", MEDIA_TYPES[options.format].encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
        await send(start)
        await send({"type": "http.response.body", "body": body})
        return True


def parse_query(query: bytes) -> ContextOptions | None:
    """`n`, `max_tokens`, `format` and `include`, each at most once, plain and in bounds (the
    route's own bounds); else None. The options are the cache key: every parameter the route
    reads must be here, or a hit would answer another question."""
    fields: dict[str, Any] = {}
    for part in query.split(b"&") if query else ():
        name, _, value = part.partition(b"=")
        parsed = _parse(name, value)
        if parsed is None or parsed[0] in fields:
            return None
        fields[parsed[0]] = parsed[1]
    return ContextOptions(**fields)


def _parse(name: bytes, value: bytes) -> tuple[str, object] | None:
    if name == b"n" and (number := _small_int(value)) is not None and number <= N_MAX:
        return "n", number
    if name == b"max_tokens" and TOKENS_MIN <= (_small_int(value) or 0) <= TOKENS_MAX:
        return "max_tokens", _small_int(value)
    if name == b"format" and value in (b"json", b"markdown"):
        return "format", value.decode()
    if name == b"include" and value == b"prompt":
        return "include_prompt", True
    return None


def _small_int(value: bytes) -> int | None:
    """Plain digits, few enough to be a bound; `int()` of 5,000 digits raises ValueError."""
    return int(value) if value.isdigit() and len(value) <= 9 else None
