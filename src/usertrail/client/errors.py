"""What the client raises: one class per kind of refusal, read from the server's RFC 9457
problem (`application/problem+json`: type, title, status, detail, instance, and usertrail's
`code`, plus `errors` for a 422)."""

from __future__ import annotations

from typing import Any

import orjson


class UsertrailError(Exception):
    """Any answer usertrail refused (or could not give): its status, `detail` (for a person),
    `code` (the stable reason, e.g. `rate_limited`), and the whole problem as sent."""

    def __init__(
        self,
        status: int,
        detail: str,
        code: str | None = None,
        problem: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{status} {code or ''}: {detail}".replace("  ", " "))
        self.status = status
        self.detail = detail
        self.code = code
        self.problem = problem or {}

    @property
    def title(self) -> str | None:
        return _str(self.problem.get("title"))

    @property
    def instance(self) -> str | None:
        return _str(self.problem.get("instance"))

    @property
    def field_errors(self) -> list[dict[str, Any]]:
        """A 422's refused fields: `loc` (e.g. ["body", "k"]), `msg`, `type`."""
        errors = self.problem.get("errors")
        return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


class InvalidRequest(UsertrailError):
    """400, 413 or 422: the parameters or the body were not accepted."""


class Unauthorized(UsertrailError):
    """401: no API key, or not a project's API key."""


class NotFound(UsertrailError):
    """404: no such user (or group) in the key's project."""


class RateLimited(UsertrailError):
    """429: the project is over its read rate; retry after `retry_after_s`."""

    def __init__(
        self,
        status: int,
        detail: str,
        code: str | None,
        retry_after_s: float,
        problem: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(status, detail, code, problem)
        self.retry_after_s = retry_after_s


class Unavailable(UsertrailError):
    """5xx: the server or its storage is down; safe to retry later."""


class UnexpectedAnswer(UsertrailError):
    """A 2xx answer that is not the call's (a proxy's page, or another version's shape)."""


_KINDS: dict[int, type[UsertrailError]] = {
    400: InvalidRequest,
    401: Unauthorized,
    404: NotFound,
    413: InvalidRequest,
    422: InvalidRequest,
}


def error_for(status: int, body: bytes, retry_after: str | None) -> UsertrailError:
    """The error for a non-2xx answer. A problem gives its `detail` (else its `title`) and
    `code`; any other body (a proxy's page) is the detail as text."""
    problem = _problem(body)
    detail = _str(problem.get("detail")) or _str(problem.get("title"))
    if detail is None:
        detail = body.decode(errors="replace")[:500] if not problem else ""
    code = _str(problem.get("code"))
    if status == 429:
        return RateLimited(status, detail, code, float(retry_after or 1), problem)
    kind = Unavailable if status >= 500 else _KINDS.get(status, UsertrailError)
    return kind(status, detail, code, problem)


def _problem(body: bytes) -> dict[str, Any]:
    try:
        data: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None
