"""Error -> HTTP mapping, in one place. Bodies follow PostHog's capture error shape."""

from __future__ import annotations

import orjson
from starlette.responses import Response

from usertrail.errors import (
    BadCredentials,
    BadPayload,
    NotFound,
    PayloadTooLarge,
    StorageUnavailable,
    UsertrailError,
)

_STATUS: dict[type[UsertrailError], int] = {
    BadPayload: 400,
    BadCredentials: 401,
    NotFound: 404,
    PayloadTooLarge: 413,
    StorageUnavailable: 503,
}

CAPTURE_OK = b'{"status":1}'


def json_response(
    content: object, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        orjson.dumps(content), status_code=status, media_type="application/json", headers=headers
    )


def error_response(exc: UsertrailError) -> Response:
    status = _STATUS.get(type(exc), 500)
    headers = {"Retry-After": "5"} if status == 503 else None
    body = {
        "type": "validation_error" if status < 500 else "server_error",
        "code": exc.kind,
        "detail": exc.detail,
    }
    return json_response(body, status, headers)
