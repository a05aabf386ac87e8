"""GET /actions/user/{user_id}: what a person's behaviour made usertrail do (firings, sinks)."""

from __future__ import annotations

import msgspec
from fastapi import APIRouter, Request
from starlette.responses import Response

from usertrail.core.ids import checked_id
from usertrail.errors import NotFound
from usertrail.web.context_api import UserId
from usertrail.web.deps import services_of
from usertrail.web.read_auth import READ_ERRORS, ApiKey, project_of

router = APIRouter(tags=["actions"])
_encode = msgspec.json.Encoder().encode


@router.get(
    "/actions/user/{user_id:path}",
    summary="Trigger firings and sink lines for one person",
    responses=READ_ERRORS,
)
async def user_actions(request: Request, user_id: UserId, credentials: ApiKey) -> Response:
    services = services_of(request)
    project = await project_of(request, credentials)
    actions = await services.outbox.person_actions(project.id, checked_id(user_id))
    if actions is None:
        raise NotFound(f"no user {user_id!r} in this project")
    return Response(_encode(actions), media_type="application/json")
