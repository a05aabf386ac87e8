"""The dashboard's data (/ui/api/...): who is active, one person's sessions, context and
actions, the raw event behind a label, and a stream of change notices. Bearer key or the
dashboard cookie (web.reader); the project always comes from the key."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import timedelta
from typing import Annotated

import msgspec
from fastapi import APIRouter, Path, Query, Request, Security
from starlette.responses import Response, StreamingResponse

from usertrail.core.context.build import ContextOptions
from usertrail.core.ids import checked_id, checked_uuid
from usertrail.core.timeline import timeline
from usertrail.errors import NotFound
from usertrail.model.raw import RawEvent
from usertrail.model.timeline import TimelineSession
from usertrail.services.context import MIN_EVENTS_LOADED
from usertrail.services.live import ANYONE
from usertrail.web.context_api import UserId
from usertrail.web.deps import services_of
from usertrail.web.read_auth import READ_ERRORS, bearer_key, dashboard_cookie
from usertrail.web.reader import reader_project
from usertrail.web.sse import KEEP_ALIVE, gated, notices, sse

router = APIRouter(
    prefix="/ui/api",
    tags=["dashboard"],
    # For the schema: either credential works; web.reader checks them.
    dependencies=[Security(bearer_key), Security(dashboard_cookie)],
    responses=READ_ERRORS,
)
_encode = msgspec.json.Encoder().encode
# The newest events shown as sessions: the window the context's last session is cut from, so
# a long session has one duration on the dashboard and in the prompt.
TIMELINE_EVENTS = MIN_EVENTS_LOADED


def _json(value: object) -> Response:
    return Response(_encode(value), media_type="application/json")


@router.get("/active", summary="Persons with events in the last `minutes`, newest first")
async def active(
    request: Request,
    minutes: Annotated[int, Query(ge=1, le=60 * 24 * 30)] = 30,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Response:
    project = await reader_project(request)
    services = services_of(request)
    since = services.clock() - timedelta(minutes=minutes)
    persons = await services.browse.active(project.id, since, limit)
    return _json({"project": {"id": project.id, "name": project.name}, "persons": persons})


@router.get("/person/{user_id:path}", summary="A person's context, actions and recent sessions")
async def person(request: Request, user_id: UserId) -> Response:
    project = await reader_project(request)
    services = services_of(request)
    user_id = checked_id(user_id)
    context = await services.context.for_user(project, user_id, ContextOptions(n=20))  # 404
    actions = await services.outbox.person_actions(project.id, user_id)
    return _json(
        {
            "context": context,
            "actions": actions,
            "sessions": await _sessions(request, project.id, user_id),
        }
    )


async def _sessions(request: Request, project_id: str, user_id: str) -> list[TimelineSession]:
    services = services_of(request)
    data = await services.store.person_data(project_id, user_id, TIMELINE_EVENTS)
    if data is None:
        return []
    minutes = services.config_for(project_id).session_timeout_minutes
    return timeline(data.events, timedelta(minutes=minutes))


@router.get("/event/{uuid}", summary="The event behind a label, as it was received")
async def raw_event(
    request: Request, uuid: Annotated[str, Path(json_schema_extra={"format": "uuid"})]
) -> Response:
    project = await reader_project(request)
    raw = await services_of(request).browse.raw_event(project.id, checked_uuid(uuid))
    if raw is None:
        raise NotFound(f"no event {uuid!r} in this project")
    return _json(_raw_view(raw))


def _raw_view(raw: RawEvent) -> dict[str, object]:
    return {
        "uuid": raw.uuid,
        "event": raw.event,
        "distinct_id": raw.distinct_id,
        "timestamp": raw.timestamp,
        "received_at": raw.received_at,
        "source": raw.source,
        "body": raw.body,
    }


@router.get("/relay", summary="Where the relay to PostHog stands for this project")
async def relay(request: Request) -> Response:
    project = await reader_project(request)
    services = services_of(request)
    target = services.posthog_target(project)
    if target is None or services.relay_state is None:
        return _json({"posthog_host": None})
    summary = await services.relay_state.summary(project.id)
    waiting = summary.oldest_waiting
    return _json(
        {
            "posthog_host": target.host,
            "backlog": summary.backlog,
            "lag_seconds": (services.clock() - waiting).total_seconds() if waiting else 0.0,
            "dead_letters": summary.dead_letters,
            "recent_dead": await services.relay_state.dead_letters(project.id, limit=5),
            # Counted by the process that relays (this one or its processor; not a worker).
            "since_start": await services.relay_status(),
        }
    )


@router.get("/stream", summary="Server-sent `changed` notices: whose events were processed")
async def stream(request: Request) -> StreamingResponse:
    project = await reader_project(request)
    services = services_of(request)

    async def events() -> AsyncGenerator[bytes, None]:
        async for changed in notices(request, services, project.id):
            if changed is None:
                yield KEEP_ALIVE
            else:  # null: anyone may have changed
                yield sse("changed", None if changed is ANYONE else sorted(changed))

    return gated(request, events())
