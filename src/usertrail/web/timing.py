"""Request latency by route group, for /metrics."""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Receive, Scope, Send

from usertrail.observability import Metrics


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
            runtime = getattr(scope["app"].state, "runtime", None)
            if runtime is not None:
                observe(runtime.metrics, scope["path"], started)


def observe(metrics: Metrics, path: str, started: float) -> None:
    metrics.request_seconds.labels(route_group(path)).observe(time.perf_counter() - started)


def route_group(path: str) -> str:
    first = path.strip("/").split("/", 1)[0]
    if first in ("e", "i", "batch", "capture", "track", "engage", "s"):
        return "capture"
    return first or "root"
