"""create_app(settings): the FastAPI app; served_app(app): what the CLI serves (the app behind
the cached-context lane, web.context_lane)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp

from usertrail import __version__
from usertrail.errors import UsertrailError
from usertrail.mcp_server import build_mcp
from usertrail.settings import Settings
from usertrail.web import (
    actions_api,
    capture,
    context_api,
    ops,
    privacy_api,
    remote_config,
    retrieval_api,
    webhook,
)
from usertrail.web.assets import VersionedStaticFiles
from usertrail.web.context_lane import CachedContextLane
from usertrail.web.dashboard import mount_dashboard
from usertrail.web.demo import mount_demo
from usertrail.web.guard import RequestGuard
from usertrail.web.responses import invalid_request, rejected
from usertrail.web.sse import StreamGate
from usertrail.web.timing import TimingMiddleware
from usertrail.wiring import Runtime, build_runtime


def create_app(settings: Settings, runtime: Runtime | None = None) -> FastAPI:
    rt = runtime or build_runtime(settings)
    mcp = build_mcp(rt)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt.start()
        try:
            async with mcp.session_manager.run():
                yield
        finally:
            await rt.close()

    app = FastAPI(title="usertrail", version=__version__, lifespan=lifespan)
    app.state.runtime = rt
    app.state.streams = StreamGate(settings.max_streams, settings.stream_max_s)
    # MCP over streamable HTTP; each call carries the API key as a Bearer token.
    app.mount(
        "/mcp",
        mcp.streamable_http_app(streamable_http_path="/", stateless_http=True, json_response=True),
    )
    _add_capture_routes(app)
    app.include_router(context_api.router)
    app.include_router(actions_api.router)
    app.include_router(retrieval_api.router)
    app.include_router(privacy_api.router)
    mount_dashboard(app)
    if rt.demo_project is not None:
        mount_demo(app, rt.demo_project)
    app.add_route("/webhooks/posthog", webhook.posthog_webhook, methods=["POST"])
    if assets := settings.posthog_js_path():
        # posthog-js loads its extensions (dead clicks, exceptions...) from the api host.
        app.mount("/static", VersionedStaticFiles(directory=assets), name="posthog-js")
    app.add_route("/healthz", ops.healthz, methods=["GET"])
    app.add_route("/readyz", ops.readyz, methods=["GET"])
    app.add_route("/metrics", ops.metrics, methods=["GET"])
    app.add_exception_handler(UsertrailError, rejected)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, invalid_request)  # type: ignore[arg-type]
    app.add_middleware(RequestGuard, runtime=rt, timeout_s=settings.body_timeout_s)
    app.add_middleware(TimingMiddleware)
    # posthog-js sends credentials, so the origin must be echoed, never "*".
    app.add_middleware(
        CORSMiddleware,
        allow_origin_regex=".*",
        allow_credentials=True,
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["*"],
    )
    return app


def _add_capture_routes(app: FastAPI) -> None:
    for path in capture.CAPTURE_PATHS:
        for variant in (path, path + "/"):
            app.add_route(variant, capture.capture, methods=["POST", "GET"])
    for path in ("/flags", "/decide"):
        for variant in (path, path + "/"):
            app.add_route(variant, remote_config.flags, methods=["POST", "GET"])
    app.add_route("/array/{token}/config", remote_config.config_json, methods=["GET"])
    app.add_route("/array/{token}/config.js", remote_config.config_js, methods=["GET"])


def served_app(app: FastAPI) -> ASGIApp:
    """The app as uvicorn runs it: cached context reads are answered before FastAPI."""
    return CachedContextLane(app, app.state.runtime)
