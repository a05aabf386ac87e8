"""Who is reading: the project of an API key sent as a Bearer header or the dashboard cookie.

EventSource cannot send an Authorization header, so the dashboard's requests carry the key in
an HttpOnly, SameSite=Strict cookie (set by POST /ui/login). The project always comes from
the key, never from the request.
"""

from __future__ import annotations

from starlette.requests import Request

from usertrail.authorization import bearer
from usertrail.model.project import Project
from usertrail.web.deps import services_of
from usertrail.web.read_auth import COOKIE


async def reader_project(request: Request) -> Project:
    """401 (BadCredentials) without a valid key."""
    key = bearer(request.headers.get("authorization")) or request.cookies.get(COOKIE)
    return await services_of(request).context.project_for_key(key)
