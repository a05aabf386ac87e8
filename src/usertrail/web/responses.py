"""Error -> HTTP mapping, in one place. Bodies follow PostHog's capture error shape."""

from __future__ import annotations

import orjson
import structlog
from fastapi.exceptions import RequestValidationError
from starlette.requests import Request
from starlette.responses import Response

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
    UsertrailError,
)
from usertrail.observability import Metrics
from usertrail.web.deps import services_of
from usertrail.web.timing import route_group

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
}

CAPTURE_OK = b'{"status":1}'
log = structlog.get_logger("usertrail.web")


def json_response(
    content: object, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        orjson.dumps(content), status_code=status, media_type="application/json", headers=headers
    )


def error_response(exc: UsertrailError) -> Response:
    status = _STATUS.get(type(exc), 500)
    headers = {"Retry-After": str(exc.retry_after_s)} if exc.retry_after_s else None
    body = {
        "type": _error_type(status),
        "code": exc.kind,
        "detail": exc.detail,
    }
    return json_response(body, status, headers)


def _error_type(status: int) -> str:
    if status == 429:
        return "rate_limited"
    return "validation_error" if status < 500 else "server_error"


async def rejected(request: Request, exc: UsertrailError) -> Response:
    """The app's exception handler for refused requests."""
    return refused(services_of(request).metrics, request.url.path, exc)


def refused(metrics: Metrics, path: str, exc: UsertrailError) -> Response:
    """The answer to a refused request, counted and logged."""
    metrics.count_refused(route_group(path), exc.kind)
    log.info("request_rejected", path=path, reason=exc.kind, detail=exc.detail)
    return error_response(exc)


_ERROR_FIELDS = ("type", "loc", "msg")


async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
    """FastAPI's 422 shape without the `input` it echoes (a 300 MB body came back whole, and
    an echoed value is the caller's own data in our logs and proxies): type, loc, msg."""
    errors = [{k: e[k] for k in _ERROR_FIELDS if k in e} for e in exc.errors()]
    return json_response({"detail": errors}, 422)
