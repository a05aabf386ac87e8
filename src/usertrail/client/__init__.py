"""A typed Python client for usertrail's read API, sync and async, over httpx.

    from usertrail.client import Usertrail

    with Usertrail("http://127.0.0.1:8000", api_key="utk_…") as usertrail:
        context = usertrail.user_context("user_42", max_tokens=1500)
        system_prompt = usertrail.user_prompt("user_42")

`AsyncUsertrail` has the same methods, awaited. Refusals raise `UsertrailError` subclasses.
"""

from __future__ import annotations

from usertrail.client.answers import (
    AccountContext,
    Assisted,
    ErasureReport,
    PersonExport,
    Retrieval,
    UserContext,
)
from usertrail.client.async_client import AsyncUsertrail
from usertrail.client.errors import (
    InvalidRequest,
    NotFound,
    RateLimited,
    Unauthorized,
    Unavailable,
    UnexpectedAnswer,
    UsertrailError,
)
from usertrail.client.sync_client import Usertrail

__all__ = [
    "AccountContext",
    "Assisted",
    "AsyncUsertrail",
    "ErasureReport",
    "InvalidRequest",
    "NotFound",
    "PersonExport",
    "RateLimited",
    "Retrieval",
    "Unauthorized",
    "Unavailable",
    "UnexpectedAnswer",
    "UserContext",
    "Usertrail",
    "UsertrailError",
]
