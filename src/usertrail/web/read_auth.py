"""The read API's credentials and error answers, declared so the OpenAPI schema states them.

A route that takes `ApiKey` shows the Bearer scheme in the schema, and `READ_ERRORS` lists the
clear 4xx answers every read can give (a client generator, or schemathesis, relies on both).
The key is still checked by the context service, which also resolves the project from it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Security
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import Request

from usertrail.core.ids import ID_RULE
from usertrail.model.project import Project
from usertrail.web.deps import runtime_of

bearer_key = HTTPBearer(
    auto_error=False,  # the service answers 401 with our error body, not FastAPI's
    scheme_name="ApiKey",
    description="The project's secret API key (utk_…), as `Authorization: Bearer <key>`.",
)
ApiKey = Annotated[HTTPAuthorizationCredentials | None, Security(bearer_key)]
COOKIE = "usertrail_key"  # set by POST /ui/login, read by web.reader
dashboard_cookie = APIKeyCookie(
    name=COOKIE,
    auto_error=False,
    scheme_name="DashboardCookie",
    description="The same API key, kept by the dashboard's sign-in (HttpOnly cookie).",
)


def key_of(credentials: HTTPAuthorizationCredentials | None) -> str | None:
    return credentials.credentials if credentials else None


_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}}
# Each is problem+json (web.api_schema.problem_responses says so in the schema).
READ_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "The id breaks the id rule: " + ID_RULE},
    401: {"description": "Missing or wrong API key"},
    404: {"description": "No such user in the key's project"},
    429: {
        "description": "The project is over its read rate limit",
        "headers": _RETRY_AFTER,
    },
}
BODY_ERRORS: dict[int | str, dict[str, Any]] = {
    **READ_ERRORS,
    400: {"description": "The body could not be read as JSON"},
    408: {"description": "The body did not arrive in time"},
    413: {"description": "The body is larger than the route allows"},
}


async def project_of(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Project:
    """The project the Bearer key names: 401 without a valid key, 429 over its read rate."""
    return await runtime_of(request).context.project_for_key(key_of(credentials))
