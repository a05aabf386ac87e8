"""Request latency by route group, for /metrics.

The label comes from the route that matched (its template's first segment), never from the
raw path: any client can send any path, and each new label value is a new time series held
in memory forever. A path no route matched is counted as `unmatched`.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Receive, Scope, Send

from usertrail.observability import Metrics

UNMATCHED = "unmatched"
_CAPTURE = frozenset(("e", "i", "batch", "capture", "track", "engage", "s"))


class TimingMiddleware:
    """Plain ASGI, so it costs next to nothing per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            services = getattr(scope["app"].state, "services", None)
            if services is not None:
                observe(services.metrics, matched_group(scope), started)


def observe(metrics: Metrics, group: str, started: float) -> None:
    metrics.request_seconds.labels(group).observe(time.perf_counter() - started)


def matched_group(scope: Scope) -> str:
    """The group of the route Starlette's router matched (it stores it in the scope)."""
    template = getattr(scope.get("route"), "path", None)
    return route_group(template) if isinstance(template, str) else UNMATCHED


def route_group(template: str) -> str:
    first = template.strip("/").split("/", 1)[0]
    if first in _CAPTURE:
        return "capture"
    return first or "root"
