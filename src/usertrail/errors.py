"""Errors that carry the data for a clear message. HTTP status mapping lives only in web/."""

from __future__ import annotations


class UsertrailError(Exception):
    """Base class: `kind` is a stable machine-readable reason (also a metrics label)."""

    kind = "error"
    retry_after_s: int | None = None  # when the client may try again, for 429 and 503

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class BadPayload(UsertrailError):
    kind = "bad_payload"


class PayloadTooLarge(UsertrailError):
    kind = "too_large"


class RequestTimeout(UsertrailError):
    """The request's body did not arrive in time (a slow or stalled client)."""

    kind = "timeout"


class BadCredentials(UsertrailError):
    kind = "unauthorized"


class NotFound(UsertrailError):
    kind = "not_found"


class BudgetTooSmall(UsertrailError):
    """A context's `max_tokens` cannot hold even the user's header: a clear 400, never an
    empty block."""

    kind = "budget_too_small"


class StorageUnavailable(UsertrailError):
    kind = "storage_unavailable"
    retry_after_s = 5


class Overloaded(StorageUnavailable):
    """Too many capture requests already wait for a commit: refused at once, not queued."""

    kind = "overloaded"
    retry_after_s = 1


class RateLimited(UsertrailError):
    """A project read faster than its limit allows (never raised on capture)."""

    kind = "rate_limited"
    retry_after_s: int

    def __init__(self, detail: str, retry_after_s: int) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s


class ConfigError(UsertrailError):
    kind = "config"


class UpstreamUnreachable(UsertrailError):
    """PostHog could not be reached (refused, reset, timed out): worth trying again."""

    kind = "upstream_unreachable"
    retry_after_s = 5


class Throttled(UsertrailError):
    """PostHog's 429 on its query API (120 HogQL queries an hour by default)."""

    kind = "throttled"


class QueryRefused(UsertrailError):
    """PostHog refused a query for good: a wrong key, project id or host."""

    kind = "query_refused"
