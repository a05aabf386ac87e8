"""Server-sent events for the dashboard and the demo: framing, heartbeats, live context."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import msgspec
from starlette.requests import Request
from starlette.responses import StreamingResponse

from usertrail.core.context.build import ContextOptions
from usertrail.errors import NotFound
from usertrail.model.project import Project
from usertrail.services.context_cache import Rendered

if TYPE_CHECKING:
    from usertrail.wiring import Runtime

HEARTBEAT_S = 15.0
KEEP_ALIVE = b": keep-alive\n\n"
_encode = msgspec.json.Encoder().encode


def sse(event: str, data: object) -> bytes:
    return f"event: {event}\ndata: ".encode() + _encode(data) + b"\n\n"


def sse_response(events: AsyncIterator[bytes]) -> StreamingResponse:
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(events, media_type="text/event-stream", headers=headers)


async def notices(
    request: Request, runtime: Runtime, project_id: str
) -> AsyncIterator[frozenset[str] | None]:
    """The distinct ids each processed slice changed in the project; None for a heartbeat.
    Yields one None first, once subscribed, so a reader can load state without a gap."""
    async with runtime.live.subscribe(project_id) as queue:
        yield None
        while not await request.is_disconnected():
            try:
                yield await asyncio.wait_for(queue.get(), HEARTBEAT_S)
            except TimeoutError:
                yield None


async def live_context(
    request: Request, runtime: Runtime, project: Project, user_id: str, options: ContextOptions
) -> AsyncIterator[bytes]:
    """`context` now and whenever the person's events are processed; `waiting` while the id
    is not known yet (a visitor whose first events are still on their way)."""
    ids, first = {user_id}, True
    async for changed in notices(request, runtime, project.id):
        if changed is None and not first:
            yield KEEP_ALIVE
            continue
        if changed is not None and not changed & ids:
            continue
        first = False
        rendered = await _context_or_none(runtime, project, user_id, options)
        if rendered is None:
            yield sse("waiting", {"user_id": user_id})
            continue
        ids = {user_id, *rendered.ids}  # as stored: the context masks an email used as an id
        yield sse("context", rendered.context())


async def _context_or_none(
    runtime: Runtime, project: Project, user_id: str, options: ContextOptions
) -> Rendered | None:
    try:
        return await runtime.context.rendered(project, user_id, options)
    except NotFound:
        return None
