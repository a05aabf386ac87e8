"""Privacy requests with the project's API key: erase a person, or export all about them."""

from __future__ import annotations

import msgspec
from fastapi import APIRouter, Request
from starlette.responses import Response, StreamingResponse

from usertrail.core.ids import checked_id
from usertrail.web.context_api import UserId
from usertrail.web.deps import services_of
from usertrail.web.read_auth import READ_ERRORS, ApiKey, project_of

router = APIRouter(tags=["privacy"], responses=READ_ERRORS)
# The export route comes first: `/persons/{id:path}` would also match `/persons/x/export`,
# and a request with another method must be answered with the export's Allow header.
_encode = msgspec.json.Encoder().encode


@router.get("/persons/{user_id:path}/export", summary="Everything stored about a person, as JSON")
async def export_person(request: Request, user_id: UserId, credentials: ApiKey) -> Response:
    """Raw events as received, derived events, properties, ids, counters, trigger firings
    with their deliveries, and sink lines; streamed, so a long history stays cheap."""
    services = services_of(request)
    project = await project_of(request, credentials)
    chunks = await services.privacy.export(
        project, checked_id(user_id)
    )  # 404 before the first byte
    headers = {"Content-Disposition": 'attachment; filename="person-export.json"'}
    return StreamingResponse(chunks, media_type="application/json", headers=headers)


@router.delete("/persons/{user_id:path}", summary="Erase a person: every id, event, count and line")
async def delete_person(request: Request, user_id: UserId, credentials: ApiKey) -> Response:
    """Any of the person's distinct ids erases the whole person; late events cannot bring
    them back (only a new `$identify` after the erasure links ids again). Returns how many
    rows of each kind were removed."""
    services = services_of(request)
    project = await project_of(request, credentials)
    report = await services.privacy.delete_person(project, checked_id(user_id))
    return Response(_encode(report), media_type="application/json")
