"""create_app(settings): the FastAPI app; served_app(app): what the CLI serves (the app behind
the cached-context and capture lanes, web.context_lane and web.capture_lane)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import ASGIApp

from usertrail import __version__
from usertrail.front import Services
from usertrail.mcp_server import build_mcp
from usertrail.settings import Settings
from usertrail.web import (
    account_api,
    actions_api,
    ai_capture,
    api_schema,
    capture,
    context_api,
    ops,
    privacy_api,
    problems,
    proxy,
    retrieval_api,
    webhook,
)
from usertrail.web.api_docs import mount_api_docs
from usertrail.web.assets import VersionedStaticFiles
from usertrail.web.capture_lane import CORS_OPTIONS, CaptureLane
from usertrail.web.context_lane import CachedContextLane
from usertrail.web.dashboard import mount_dashboard
from usertrail.web.demo import mount_demo
from usertrail.web.guard import RequestGuard
from usertrail.web.sse import StreamGate
from usertrail.web.timing import TimingMiddleware
from usertrail.wiring import Runtime, build_runtime

DESCRIPTION = (
    "PostHog events in, LLM-ready user context out. Reads take the project's secret API key "
    "(`Authorization: Bearer utk_…`); capture takes its public token, as PostHog's does."
)


def create_app(settings: Settings, runtime: Runtime | None = None) -> FastAPI:
    rt = runtime or build_runtime(settings)
    services = Services.of(rt)
    mcp = build_mcp(services)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt.start()
        try:
            async with mcp.session_manager.run():
                yield
        finally:
            await rt.close()

    app = FastAPI(
        title="usertrail",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # web.api_docs serves both from node_modules, not a CDN
        redoc_url=None,
    )
    app.state.runtime = rt  # started and closed by the lifespan; handlers get `services`
    app.state.services = services
    app.state.streams = StreamGate(settings.max_streams, settings.stream_max_s)
    api_schema.install(app)
    mount_api_docs(app, settings)
    # MCP over streamable HTTP; each request carries the API key as a Bearer token, checked
    # before the MCP app sees it (web.guard), and again by each tool, for the project.
    app.mount(
        "/mcp",
        mcp.streamable_http_app(streamable_http_path="/", stateless_http=True, json_response=True),
    )
    _add_capture_routes(app)
    app.include_router(context_api.router)
    app.include_router(account_api.router)
    app.include_router(actions_api.router)
    app.include_router(retrieval_api.router)
    app.include_router(privacy_api.router)
    mount_dashboard(app)
    if rt.demo_project is not None:
        mount_demo(app, rt.demo_project)
    for variant in ("/webhooks/posthog", "/webhooks/posthog/"):  # never a redirect
        app.add_route(variant, webhook.posthog_webhook, methods=["POST"])
    _add_static(app, settings, services)
    app.add_route("/healthz", ops.healthz, methods=["GET"])
    app.add_route("/readyz", ops.readyz, methods=["GET"])
    app.add_route("/metrics", ops.metrics, methods=["GET"])
    problems.install(app)
    app.add_middleware(RequestGuard, services=services, timeout_s=settings.body_timeout_s)
    app.add_middleware(TimingMiddleware)
    app.add_middleware(problems.CORSProblems, **CORS_OPTIONS)  # type: ignore[arg-type]
    return app


def _add_capture_routes(app: FastAPI) -> None:
    """Each path with and without its trailing slash: a redirect is a failure to an SDK."""
    routes = [
        *((path, capture.capture) for path in capture.CAPTURE_PATHS),
        ("/i/v0/ai", ai_capture.capture_ai),
        ("/s", proxy.recordings),
        ("/flags", proxy.flags),
        ("/decide", proxy.flags),
    ]
    for path, endpoint in routes:
        for variant in (path, path + "/"):
            app.add_route(variant, endpoint, methods=["POST", "GET"])
    app.add_route("/array/{token}/config", proxy.config, methods=["GET"])
    app.add_route("/array/{token}/config.js", proxy.config, methods=["GET"])


def _add_static(app: FastAPI, settings: Settings, services: Services) -> None:
    """posthog-js loads its extensions (dead clicks, exceptions, the recorder...) from the api
    host's /static/: PostHog's, when one is configured, else the installed posthog-js."""
    assets = settings.posthog_js_path()
    local = VersionedStaticFiles(directory=assets) if assets else None
    if services.relay is not None:
        app.mount("/static", proxy.StaticProxy(local), name="posthog-js")
    elif local is not None:
        app.mount("/static", local, name="posthog-js")


def served_app(app: FastAPI) -> ASGIApp:
    """The app as uvicorn runs it: cached context reads and capture POSTs are answered
    before FastAPI (web.context_lane, web.capture_lane)."""
    services: Services = app.state.services
    # Capture outermost: it is most of the requests, and a POST has no business in the
    # context lane's checks.
    return CaptureLane(CachedContextLane(app, services), services, services.settings.body_timeout_s)
