"""What the client raises: one class per kind of refusal, each with the server's words."""

from __future__ import annotations

from typing import Any

import orjson


class UsertrailError(Exception):
    """Any answer usertrail refused (or could not give), with its status and detail."""

    def __init__(self, status: int, detail: str, code: str | None = None) -> None:
        super().__init__(f"{status} {code or ''}: {detail}".replace("  ", " "))
        self.status = status
        self.detail = detail
        self.code = code


class InvalidRequest(UsertrailError):
    """400 or 422: the parameters or the body were not accepted."""


class Unauthorized(UsertrailError):
    """401: no API key, or not a project's API key."""


class NotFound(UsertrailError):
    """404: no such user (or group) in the key's project."""


class RateLimited(UsertrailError):
    """429: the project is over its read rate; retry after `retry_after_s`."""

    def __init__(self, status: int, detail: str, code: str | None, retry_after_s: float) -> None:
        super().__init__(status, detail, code)
        self.retry_after_s = retry_after_s


class Unavailable(UsertrailError):
    """5xx: the server or its storage is down; safe to retry later."""


def error_for(status: int, body: bytes, retry_after: str | None) -> UsertrailError:
    """The error for a non-2xx answer, whatever the body's shape (it reads `detail` and
    `code`, or `title`, from a JSON object; any other body is the detail as text)."""
    detail, code = _read(body)
    if status == 429:
        return RateLimited(status, detail, code, float(retry_after or 1))
    kind = {400: InvalidRequest, 401: Unauthorized, 404: NotFound, 422: InvalidRequest}
    if status >= 500:
        return Unavailable(status, detail, code)
    return kind.get(status, UsertrailError)(status, detail, code)


def _read(body: bytes) -> tuple[str, str | None]:
    try:
        data: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body.decode(errors="replace")[:500], None
    if not isinstance(data, dict):
        return str(data)[:500], None
    detail = data.get("detail") or data.get("title") or ""
    code = data.get("code")
    return (detail if isinstance(detail, str) else orjson.dumps(detail).decode()), code
