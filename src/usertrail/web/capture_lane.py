"""Capture and webhook POSTs answered in front of FastAPI, the way the routes answer them.

Single-event requests are most of what browsers and PostHog's webhook destination send, and
for those FastAPI's middleware stack and routing cost more CPU than the capture itself
(py-spy under `wrk` on `--role ingest`). This lane runs the same endpoint functions
(web.capture, web.webhook) with what the stack gave them: the body deadline
(web.guard), the same CORS answer (the app's own middleware class and options), refusals as
the same problem details, counted (web.problems), and the request timed under the same
route group.
Any other method or path goes on to the app unchanged; durability is the endpoints': the
2xx follows the commit.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import structlog
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from usertrail.errors import UsertrailError
from usertrail.web import capture, webhook
from usertrail.web.guard import before_deadline
from usertrail.web.problems import CORSProblems, crashed, refused
from usertrail.web.timing import observe, route_group

if TYPE_CHECKING:
    from usertrail.front import Services

log = structlog.get_logger("usertrail.web")
Endpoint = Callable[[Request], Awaitable[Response]]
# posthog-js sends credentials, so the origin must be echoed, never "*".
CORS_OPTIONS = {
    "allow_origin_regex": ".*",
    "allow_credentials": True,
    "allow_methods": ["GET", "POST", "OPTIONS"],
    "allow_headers": ["*"],
}


def lane_routes() -> dict[str, Endpoint]:
    """Each path with and without its trailing slash, as the app routes them."""
    routes: dict[str, Endpoint] = {}
    for path in capture.CAPTURE_PATHS:
        routes[path] = routes[path + "/"] = capture.capture
    for path in ("/webhooks/posthog", "/webhooks/posthog/"):
        routes[path] = webhook.posthog_webhook
    return routes


class CaptureLane:
    def __init__(self, app: ASGIApp, services: Services, timeout_s: float) -> None:
        self.app = app
        self._services = services
        self._timeout_s = timeout_s
        self._lanes = {
            path: CORSProblems(self._answering(path, endpoint), **CORS_OPTIONS)  # type: ignore[arg-type]
            for path, endpoint in lane_routes().items()
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            lane = self._lanes.get(scope["path"])
            if lane is not None:
                await lane(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _answering(self, path: str, endpoint: Endpoint) -> ASGIApp:
        group = route_group(path)

        async def answer(scope: Scope, receive: Receive, send: Send) -> None:
            started = time.perf_counter()
            scope["app"] = self.app  # where the endpoints find the services, as when routed
            deadline = asyncio.get_running_loop().time() + self._timeout_s
            try:
                response = await endpoint(Request(scope, before_deadline(deadline, receive)))
            except UsertrailError as exc:
                response = refused(self._services.metrics, scope, exc)
            except Exception:  # as the app answers a crash: a problem, the traceback logged
                log.exception("request_failed", path=path)
                response = crashed(scope)
            try:
                await response(scope, receive, send)
            finally:
                observe(self._services.metrics, group, started)

        return answer
