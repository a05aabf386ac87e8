"""/docs (Swagger UI) and /redoc, served from the npm packages `make install` puts in
node_modules: nothing from a CDN, so they work offline, and nothing copied into the repo."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles

from usertrail.settings import Settings

Endpoint = Callable[[Request], Awaitable[Response]]
SWAGGER_ASSETS = "/docs/assets"
REDOC_ASSETS = "/redoc/assets"
# Nothing leaves this origin: ReDoc's sidebar shows a logo from cdn.redoc.ly (not an option in
# ReDoc 2), and its schema validator compiles code (eval), so both are stated here.
SAME_ORIGIN_ONLY = {
    "Content-Security-Policy": "default-src 'self' 'unsafe-inline' data: blob:; "
    "script-src 'self' 'unsafe-inline' 'unsafe-eval' blob:"
}
MISSING = (
    "<!doctype html><title>usertrail API</title><p>{viewer} is not installed here (it comes "
    "from npm: run <code>make install</code>). The schema itself is at "
    '<a href="/openapi.json">/openapi.json</a>.</p>'
)


def mount_api_docs(app: FastAPI, settings: Settings) -> None:
    swagger = settings.npm_package_dir("swagger-ui-dist", "swagger-ui-bundle.js")
    redoc = settings.npm_package_dir("redoc", "bundles/redoc.standalone.js")
    if swagger is not None:
        app.mount(SWAGGER_ASSETS, StaticFiles(directory=swagger), name="swagger-ui")
    if redoc is not None:
        app.mount(REDOC_ASSETS, StaticFiles(directory=redoc / "bundles"), name="redoc")
    app.add_route("/docs", _swagger_page(app, swagger), methods=["GET"], include_in_schema=False)
    app.add_route("/docs/oauth2-redirect", _oauth2_redirect, include_in_schema=False)
    app.add_route("/redoc", _redoc_page(app, redoc), methods=["GET"], include_in_schema=False)


def _swagger_page(app: FastAPI, installed: Path | None) -> Endpoint:
    async def page(request: Request) -> Response:
        if installed is None:
            return HTMLResponse(MISSING.format(viewer="Swagger UI"))
        html = get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} API",
            swagger_js_url=f"{SWAGGER_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{SWAGGER_ASSETS}/favicon-32x32.png",
            oauth2_redirect_url="/docs/oauth2-redirect",
            # The validator badge is an image from validator.swagger.io: never call out.
            swagger_ui_parameters={"validatorUrl": None},
        )
        html.headers.update(SAME_ORIGIN_ONLY)
        return html

    return page


def _redoc_page(app: FastAPI, installed: Path | None) -> Endpoint:
    async def page(request: Request) -> Response:
        if installed is None:
            return HTMLResponse(MISSING.format(viewer="ReDoc"))
        html = get_redoc_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} API",
            redoc_js_url=f"{REDOC_ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{SWAGGER_ASSETS}/favicon-32x32.png",
            with_google_fonts=False,
        )
        html.headers.update(SAME_ORIGIN_ONLY)
        return html

    return page


async def _oauth2_redirect(request: Request) -> Response:
    return get_swagger_ui_oauth2_redirect_html()
