"""The Acme Reports demo at /demo: its pages, its assistant panel's context, its webhook inbox.

Everything here is fixed to the demo project (DEMO_PROJECT_ID), whose token and key are public
by construction: no request can name another project, so the page can show context without a
secret and still never expose a real project's data.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import msgspec
from fastapi import APIRouter, FastAPI, Query, Request
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.responses import Response, StreamingResponse
from starlette.staticfiles import StaticFiles

import usertrail.demo
from usertrail.core.context.build import ContextOptions
from usertrail.core.ids import checked_id
from usertrail.demo.inbox import Signature, Visitors, WebhookInbox
from usertrail.demo.project import SIGNING_SECRET_ENV
from usertrail.errors import BadCredentials, BadPayload, NotFound, PayloadTooLarge
from usertrail.model.project import Project
from usertrail.web.deps import runtime_of
from usertrail.web.pages import render_page
from usertrail.web.sse import gated, live_context

DEMO_DIR = Path(usertrail.demo.__file__).parent
MAX_WEBHOOK_BYTES = 256 * 1024
# Each browser's own webhook inbox: a random id, set by the page, sent with its API calls.
VISITOR_COOKIE = "acme_demo_visitor"
_VISITOR_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")
router = APIRouter(include_in_schema=False)
_encode = msgspec.json.Encoder().encode


@dataclass
class DemoState:
    project: Project
    signing_secret: str | None  # verify the inbox's webhooks when set
    inbox: WebhookInbox = field(default_factory=WebhookInbox)
    visitors: Visitors = field(default_factory=Visitors)


def mount_demo(app: FastAPI, project: Project) -> None:
    app.state.demo = DemoState(project, os.environ.get(SIGNING_SECRET_ENV) or None)
    app.mount("/demo/static", StaticFiles(directory=DEMO_DIR / "static"), name="demo-static")
    app.include_router(router)


def _demo(request: Request) -> DemoState:
    state: DemoState = request.app.state.demo
    return state


def _visitor(request: Request) -> str | None:
    value = request.cookies.get(VISITOR_COOKIE, "")
    return value if _VISITOR_ID.fullmatch(value) else None


def _follow(request: Request, distinct_id: str) -> str:
    """The checked id, remembered as one this visitor follows (for its webhook inbox)."""
    distinct_id = checked_id(distinct_id)
    if visitor := _visitor(request):
        _demo(request).visitors.follows(visitor, distinct_id)
    return distinct_id


@router.get("/demo/api/context/{distinct_id:path}/stream")
async def demo_context_stream(
    request: Request, distinct_id: str, n: Annotated[int, Query(ge=0, le=100)] = 20
) -> StreamingResponse:
    runtime, project = runtime_of(request), _demo(request).project
    runtime.context.limiter.admit(project.id)
    user_id, options = _follow(request, distinct_id), ContextOptions(n=n)
    return gated(request, live_context(request, runtime, project, user_id, options))


@router.get("/demo/api/context/{distinct_id:path}")
async def demo_context(
    request: Request, distinct_id: str, n: Annotated[int, Query(ge=0, le=100)] = 20
) -> Response:
    """The same object as GET /context/user/{id}, for the demo project only."""
    runtime, project = runtime_of(request), _demo(request).project
    runtime.context.limiter.admit(project.id)  # public reads: the demo's own bucket
    ctx = await runtime.context.for_user(
        project, _follow(request, distinct_id), ContextOptions(n=n)
    )
    return Response(_encode(ctx), media_type="application/json")


@router.get("/demo/api/webhooks")
async def demo_webhooks(request: Request) -> Response:
    """This visitor's webhooks: those about the persons its page has followed."""
    state = _demo(request)
    received = state.inbox.about(state.visitors.ids_of(_visitor(request)))
    body = {"signing": state.signing_secret is not None, "received": received}
    return Response(_encode(body), media_type="application/json")


@router.post("/demo/webhook-inbox")
async def webhook_inbox(request: Request) -> Response:
    """Where the demo's `power_user` trigger posts. Verifies Standard Webhooks signatures when
    ACME_WEBHOOK_SECRET is set (the trigger then needs `secret_env`), else accepts unsigned."""
    state = _demo(request)
    body = await request.body()
    if len(body) > MAX_WEBHOOK_BYTES:
        raise PayloadTooLarge(f"a demo webhook is at most {MAX_WEBHOOK_BYTES} bytes")
    headers = dict(request.headers)
    try:
        payload = _verified(state.signing_secret, body, headers)
    except msgspec.DecodeError as exc:  # a ValueError too: caught first
        raise BadPayload(f"webhook body is not JSON: {exc}") from exc
    except (WebhookVerificationError, ValueError) as exc:
        raise BadCredentials(f"webhook signature rejected: {exc}") from exc
    signature: Signature = "verified" if state.signing_secret else "unsigned"
    webhook_id = headers.get("webhook-id", "")[:200]
    state.inbox.add(webhook_id, runtime_of(request).clock(), signature, payload)
    return Response(status_code=204)


def _verified(secret: str | None, body: bytes, headers: dict[str, str]) -> object:
    if secret is None:
        return msgspec.json.decode(body)
    return Webhook(secret).verify(body, headers)


@router.get("/demo")
@router.get("/demo/{path:path}")
async def demo_page(request: Request, path: str = "") -> Response:
    """Every page of the app is this one document; its script renders the route."""
    if path.startswith(("api/", "static/")):
        raise NotFound(f"no demo resource /demo/{path}")
    project = _demo(request).project
    settings = runtime_of(request).settings
    config = {
        "token": project.token,
        "api_key": project.api_key,  # public: the demo project holds only demo visitors
        "posthog_js": settings.posthog_js_path() is not None,
    }
    page = render_page(DEMO_DIR / "templates", "app.html", config=config)
    if _visitor(request) is None:
        visitor = secrets.token_urlsafe(18)
        page.set_cookie(VISITOR_COOKIE, visitor, path="/demo", httponly=True, samesite="lax")
    return page
