"""Errors that carry the data for a clear message. HTTP status mapping lives only in web/."""

from __future__ import annotations


class UsertrailError(Exception):
    """Base class: `kind` is a stable machine-readable reason (also a metrics label)."""

    kind = "error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class BadPayload(UsertrailError):
    kind = "bad_payload"


class PayloadTooLarge(UsertrailError):
    kind = "too_large"


class BadCredentials(UsertrailError):
    kind = "unauthorized"


class NotFound(UsertrailError):
    kind = "not_found"


class StorageUnavailable(UsertrailError):
    kind = "storage_unavailable"


class ConfigError(UsertrailError):
    kind = "config"
