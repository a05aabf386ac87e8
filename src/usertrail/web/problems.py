"""Every error the service answers, as RFC 9457 problem details, built here and only here.

    HTTP/1.1 401 Unauthorized
    Content-Type: application/problem+json

    {"type": "about:blank", "title": "Unauthorized", "status": 401,
     "detail": "missing or wrong API key (send 'Authorization: Bearer <key>')",
     "instance": "/context/user/user_42", "code": "unauthorized"}

- `type` is always `about:blank`: the problem means what its HTTP status means, and `title` is
  that status's phrase (RFC 9457 §4.2.1). The machine-readable reason is the extension member
  `code` (the error's `kind`: `unauthorized`, `rate_limited`, `budget_too_small`, ...), a
  stable string and also the `reason` label of `usertrail_requests_refused_total`. No type URI
  to dereference, so none can go stale or leak a host name.
- `detail` is the sentence for a person; posthog-python shows it (`APIError(status,
  body["detail"])`), as it does for PostHog's own capture errors, which share the `code` and
  `detail` members (PostHog: `{"type", "code", "detail", "attr"}`). SDKs read the status only.
- `instance` is the request's path as it was sent.
- 422 lists each refused field in `errors` (`loc`, `msg`, `type`: FastAPI's, without the
  `input` it would echo) and names the first in `attr`, as PostHog does.

MCP keeps its own JSON-RPC errors (web.mcp_gate and the MCP SDK): MCP clients read those.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import orjson
import structlog
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from usertrail.errors import (
    BadCredentials,
    BadPayload,
    BudgetTooSmall,
    NotFound,
    Overloaded,
    PayloadTooLarge,
    RateLimited,
    RequestTimeout,
    StorageUnavailable,
    UpstreamUnreachable,
    UsertrailError,
)
from usertrail.observability import Metrics
from usertrail.web.deps import services_of
from usertrail.web.timing import route_group

PROBLEM_JSON = "application/problem+json"
_STATUS: dict[type[UsertrailError], int] = {
    BadPayload: 400,
    BudgetTooSmall: 400,
    BadCredentials: 401,
    NotFound: 404,
    PayloadTooLarge: 413,
    RequestTimeout: 408,
    RateLimited: 429,  # reads only: the browser SDK drops capture batches answered 429
    StorageUnavailable: 503,
    Overloaded: 503,
    UpstreamUnreachable: 503,
}
_ERROR_FIELDS = ("loc", "msg", "type")
log = structlog.get_logger("usertrail.web")


def problem(
    status: int,
    detail: str,
    *,
    instance: str,
    code: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> Response:
    """The one builder: a problem+json answer (`code` defaults to the status's phrase)."""
    title = phrase(status)
    body = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        "code": code or _snake(title),
        **extensions,
    }
    return Response(orjson.dumps(body), status, headers, media_type=PROBLEM_JSON)


def error_response(exc: UsertrailError, instance: str) -> Response:
    status = next((_STATUS[t] for t in type(exc).__mro__ if t in _STATUS), 500)
    headers = {"Retry-After": str(exc.retry_after_s)} if exc.retry_after_s else None
    return problem(status, exc.detail, instance=instance, code=exc.kind, headers=headers)


def refused(metrics: Metrics, scope: Scope, exc: UsertrailError) -> Response:
    """The answer to a refused request, counted and logged (middleware calls this too)."""
    path: str = scope["path"]
    metrics.count_refused(route_group(path), exc.kind)
    log.info("request_rejected", path=path, reason=exc.kind, detail=exc.detail)
    return error_response(exc, instance_of(scope))


def instance_of(scope: Scope) -> str:
    """The path as the client sent it (percent-encoded), never the query string."""
    raw: bytes | None = scope.get("raw_path")
    return raw.decode("latin-1") if raw else quote(scope["path"])


async def _rejected(request: Request, exc: UsertrailError) -> Response:
    return refused(services_of(request).metrics, request.scope, exc)


async def _invalid(request: Request, exc: RequestValidationError) -> Response:
    """422 without the `input` FastAPI echoes (a 300 MB body came back whole, and an echoed
    value is the caller's own data in our logs and proxies)."""
    errors = [{k: e[k] for k in _ERROR_FIELDS if k in e} for e in exc.errors()]
    said = "; ".join(f"{_dotted(e.get('loc', ()))}: {e.get('msg', '')}" for e in errors)
    detail = said or "the request was not accepted"
    attr = _dotted(errors[0].get("loc", ())) if errors else None
    instance = instance_of(request.scope)
    return problem(422, detail, instance=instance, code="invalid", attr=attr, errors=errors)


async def _http_error(request: Request, exc: HTTPException) -> Response:
    """Starlette's and FastAPI's own refusals: no route (404), a method the route does not
    take (405, its Allow header kept), a body that is not JSON (400)."""
    said = exc.detail not in (phrase(exc.status_code), HTTPStatus(exc.status_code).phrase)
    detail = exc.detail if said else _sentence(exc.status_code)
    return problem(
        exc.status_code, detail, instance=instance_of(request.scope), headers=exc.headers
    )


async def _crashed(request: Request, exc: Exception) -> Response:
    """Starlette's ServerErrorMiddleware re-raises it, so the server logs the traceback."""
    return crashed(request.scope)


def crashed(scope: Scope) -> Response:
    """500: nothing of the exception reaches the client (its text may hold anyone's data)."""
    detail = "the server failed to answer; the error is in its log"
    return problem(500, detail, instance=instance_of(scope), code="internal")


class CORSProblems(CORSMiddleware):
    """Starlette's CORS, with a refused preflight (a method or header not allowed) answered
    as a problem instead of a text/plain 400; its CORS headers kept."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        preflight = scope["type"] == "http" and scope["method"] == "OPTIONS"
        headers = Headers(scope=scope) if preflight else Headers()
        if preflight and "origin" in headers and "access-control-request-method" in headers:
            answer = self.preflight_response(request_headers=headers)
            if answer.status_code >= 400:
                kept = {k: v for k, v in answer.headers.items() if k.startswith("access-control")}
                detail = bytes(answer.body).decode(errors="replace")
                answer = problem(
                    answer.status_code, detail, instance=instance_of(scope), headers=kept
                )
            await answer(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def _preflight_problem(answer: Response, scope: Scope) -> Response:
    kept = {k: v for k, v in answer.headers.items() if k.startswith("access-control")}
    detail = bytes(answer.body).decode(errors="replace")
    return problem(answer.status_code, detail, instance=instance_of(scope), headers=kept)


def install(app: FastAPI) -> None:
    app.add_exception_handler(UsertrailError, _rejected)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _invalid)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _crashed)


def phrase(status: int) -> str:
    """The status's name as RFC 9110 gives it (Python 3.11's http module has older ones)."""
    return _RFC_9110.get(status) or HTTPStatus(status).phrase


_RFC_9110 = {413: "Content Too Large", 422: "Unprocessable Content"}


def _snake(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")


def _dotted(loc: Any) -> str:
    return ".".join(str(part) for part in loc)


def _sentence(status: int) -> str:
    sentences = {
        404: "no such page or endpoint here; /docs lists the API",
        405: "this endpoint does not take that method",
    }
    return sentences.get(status, HTTPStatus(status).description)
