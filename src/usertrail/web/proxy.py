"""The SDK endpoints usertrail proxies to PostHog when a project names one: feature flags,
remote config, SDK assets and session recordings. Events themselves are captured here and
relayed (services.relay); these are what PostHog alone can answer.

If PostHog fails (unreachable, timed out, 5xx), flags and config fall back to usertrail's own
answer, so autocapture keeps working, and assets to the installed posthog-js; each fallback
is counted. Recordings are forwarded as received and never stored.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from usertrail.core.capture import split_request, token_in
from usertrail.core.decode import decode_body
from usertrail.core.forwarding import request_headers
from usertrail.core.relay import Target
from usertrail.errors import UpstreamUnreachable, UsertrailError
from usertrail.model.relay import Proxied
from usertrail.web import remote_config
from usertrail.web.capture import capture, read_body
from usertrail.web.deps import runtime_of


async def flags(request: Request) -> Response:
    """`/flags/?v=2` and `/decide/`: PostHog's flags for this person, else none."""
    body = await read_body(request)
    payload = _payload(request, body)  # decoded once: for the token, and to retoken it
    token = request.query_params.get("token") or (
        token_in(payload) if isinstance(payload, dict) else None
    )
    target = await _target(request, token)
    if target is None or token is None:
        return remote_config.flags_answer(token or "")
    retokened = target.token != token
    if retokened:  # the project file names another PostHog token
        if isinstance(payload, UsertrailError):
            raise payload
        body = orjson.dumps(_retokened(payload, target.token))
    url = target.host + request.url.path
    answer = await _forward(request, "flags", url, body, retokened=retokened)
    return answer or remote_config.flags_answer(token)


async def config(request: Request) -> Response:
    """`/array/{token}/config(.js)`: PostHog's remote config (from its assets host)."""
    token = request.path_params["token"]
    target = await _target(request, token)
    js = request.url.path.endswith(".js")
    if target is not None:
        url = f"{target.assets_host}/array/{target.token}/config{'.js' if js else ''}"
        if answer := await _forward(request, "config", url, None):
            return answer
    return remote_config.config_js_answer(token) if js else remote_config.config_answer(token)


async def recordings(request: Request) -> Response:
    """`/s/`: session recording chunks go to PostHog as received; without a PostHog they are
    captured here as before."""
    body = await read_body(request)
    token = _capture_token(request, body)
    target = await _target(request, token)
    if target is None:
        return await capture(request, body)
    answer = await _forward(request, "recordings", target.host + request.url.path, body)
    if answer is None:
        # Not stored here: the SDK keeps the chunk and sends it again.
        raise UpstreamUnreachable("PostHog is unreachable; send the chunk again later")
    return answer


class StaticProxy:
    """`/static/*` (array.js, the recorder, surveys, toolbar): PostHog's assets host, else
    the posthog-js installed here (`local`)."""

    def __init__(self, local: ASGIApp | None) -> None:
        self._local = local

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        rt = runtime_of(request)
        target = rt.posthog_target(rt.default_project)
        answer = None
        if target is not None:
            answer = await _forward(request, "static", target.assets_host + request.url.path, None)
        if answer is None and self._local is not None:
            await self._local(scope, receive, send)
            return
        if answer is None:
            raise HTTPException(404, f"no asset {request.url.path}")
        await answer(scope, receive, send)


async def _target(request: Request, token: str | None) -> Target | None:
    if not token:
        return None
    rt = runtime_of(request)
    project = await rt.projects.by_token(token)
    return rt.posthog_target(project) if project else None


async def _forward(
    request: Request, route: str, url: str, body: bytes | None, *, retokened: bool = False
) -> Response | None:
    """PostHog's answer, streamed; None (counted as a fallback) when PostHog failed."""
    rt = runtime_of(request)
    if rt.proxy is None:
        return None
    headers = request_headers(
        request.headers,
        request.client.host if request.client else None,
        request.url.scheme,
        request.headers.get("host", ""),
    )
    query = request.url.query
    if retokened:  # the body is plain JSON now
        headers = {k: v for k, v in headers.items() if k.lower() != "content-encoding"}
        headers["Content-Type"] = "application/json"
        query = "&".join(p for p in query.split("&") if not p.startswith("compression="))
    try:
        proxied = await rt.proxy.forward(
            request.method, url + (f"?{query}" if query else ""), headers, body
        )
    except UpstreamUnreachable:
        rt.metrics.proxy_requests.labels(route, "fallback").inc()
        return None
    if proxied.status >= 500:
        await proxied.close()
        rt.metrics.proxy_requests.labels(route, "fallback").inc()
        return None
    rt.metrics.proxy_requests.labels(route, "proxied").inc()
    return _streamed(proxied)


def _streamed(proxied: Proxied) -> Response:
    response = StreamingResponse(
        proxied.body(), status_code=proxied.status, background=BackgroundTask(proxied.close)
    )
    response.raw_headers = [
        (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in proxied.headers
    ]
    return response


def _decoded(request: Request, body: bytes) -> Any:
    return decode_body(
        body,
        content_type=request.headers.get("content-type", ""),
        content_encoding=request.headers.get("content-encoding", ""),
        compression=request.query_params.get("compression", ""),
    )


def _payload(request: Request, body: bytes) -> Any:
    """The decoded body, or the error that says why it cannot be (None when empty)."""
    if not body:
        return None
    try:
        return _decoded(request, body)
    except UsertrailError as exc:
        return exc


def _capture_token(request: Request, body: bytes) -> str | None:
    try:
        return split_request(_decoded(request, body), query=dict(request.query_params)).token
    except UsertrailError:
        return None


def _retokened(payload: Any, token: str) -> Any:
    if isinstance(payload, dict):
        return {**payload, **{k: token for k in ("token", "api_key") if k in payload}}
    return payload
