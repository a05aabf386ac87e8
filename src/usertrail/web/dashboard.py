"""The dashboard at /ui, behind a project's API key: a login form, the page, its assets.

POST /ui/login checks the key and keeps it in an HttpOnly, SameSite=Strict cookie for the
page's fetches and EventSource (see web.reader); the data comes from web.dashboard_api.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, FastAPI, Request
from starlette.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from usertrail.errors import BadCredentials
from usertrail.web import dashboard_api
from usertrail.web.deps import runtime_of
from usertrail.web.pages import SELF_ONLY, render_page
from usertrail.web.read_auth import COOKIE
from usertrail.web.reader import reader_project

if TYPE_CHECKING:
    from usertrail.model.project import Project
    from usertrail.wiring import Runtime

UI_DIR = Path(__file__).with_name("ui")
MAX_FORM_BYTES = 4096

router = APIRouter(include_in_schema=False)


def mount_dashboard(app: FastAPI) -> None:
    app.mount("/ui/assets", StaticFiles(directory=UI_DIR / "assets"), name="ui-assets")
    app.include_router(dashboard_api.router)
    app.include_router(router)


@router.get("/ui")
async def dashboard(request: Request) -> Response:
    try:
        project = await reader_project(request)
    except BadCredentials:
        return render_page(UI_DIR, "login.html", csp=SELF_ONLY)
    view = page_config(runtime_of(request), project)
    return render_page(UI_DIR, "dashboard.html", csp=SELF_ONLY, project=view)


def page_config(runtime: Runtime, project: Project) -> dict[str, Any]:
    """What the page names things by: the project file's words for its triggers and sinks,
    and, for any project but the demo's, where the demo's visitors are (its key is public:
    the demo page carries it), so a first sign-in with an empty project is not a dead end."""
    config = runtime.config_for(project.id)
    demo = runtime.demo_project
    elsewhere = demo is not None and demo.id != project.id
    return {
        "id": project.id,
        "name": project.name,
        "triggers": {name: spec.description for name, spec in config.triggers.items()},
        "sinks": {name: spec.description for name, spec in config.sinks.items()},
        "demo": {"name": demo.name, "api_key": demo.api_key} if demo and elsewhere else None,
    }


@router.post("/ui/login")
async def login(request: Request) -> Response:
    key = await _form_field(request, "api_key")
    try:
        await runtime_of(request).context.project_for_key(key)
    except BadCredentials:
        error = "That API key is not valid."
        return render_page(UI_DIR, "login.html", status=401, csp=SELF_ONLY, error=error)
    response = RedirectResponse("/ui", status_code=303)
    secure = request.url.scheme == "https"
    response.set_cookie(
        COOKIE, key or "", path="/ui", httponly=True, samesite="strict", secure=secure
    )
    return response


@router.post("/ui/logout")
async def logout() -> Response:
    response = RedirectResponse("/ui", status_code=303)
    response.delete_cookie(COOKIE, path="/ui")
    return response


async def _form_field(request: Request, name: str) -> str | None:
    """One field of a small urlencoded form (no multipart parser needed for a key)."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    values = parse_qs(body.decode("utf-8", errors="replace")).get(name)
    return values[0].strip() if values else None
