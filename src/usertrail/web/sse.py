"""Server-sent events for the dashboard and the demo: framing, heartbeats, live context."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator
from typing import TYPE_CHECKING

import anyio
import msgspec
from starlette.requests import Request
from starlette.responses import StreamingResponse

from usertrail.core.context.build import ContextOptions
from usertrail.errors import NotFound, Overloaded
from usertrail.model.project import Project
from usertrail.services.context_cache import Rendered
from usertrail.services.live import touches

if TYPE_CHECKING:
    from usertrail.front import Services

HEARTBEAT_S = 15.0
KEEP_ALIVE = b": keep-alive\n\n"
_encode = msgspec.json.Encoder().encode


class StreamGate:
    """Open event streams in this process: at most `max_open`, each for at most `max_s`.

    Every stream holds a connection, a task and a subscriber queue for as long as the client
    likes; without a cap, anyone with a key (or the demo's public page) could open them until
    memory ran out. Past the cap a new stream is 503 + Retry-After; a stream that reached its
    age ends, and EventSource reconnects on its own (a fresh first frame, nothing lost)."""

    def __init__(self, max_open: int, max_s: float) -> None:
        self.max_open, self.max_s, self.open = max_open, max_s, 0

    def admit(self) -> None:
        if self.open >= self.max_open:
            raise Overloaded(f"{self.open} event streams are open; the limit is {self.max_open}")

    async def bounded(self, events: AsyncGenerator[bytes, None]) -> AsyncIterator[bytes]:
        """Counted from the first frame on, so a stream never started holds no place."""
        self.open += 1
        ends = time.monotonic() + self.max_s
        try:
            while (left := ends - time.monotonic()) > 0:
                # The wait is cut at the stream's age, heartbeat or not. The scope is left
                # before the yield, in this task: a cancel never lands in the consumer.
                with anyio.move_on_after(left):
                    frame = await anext(events, None)
                if frame is None or time.monotonic() >= ends:
                    return
                yield frame
        finally:
            self.open -= 1
            await events.aclose()  # its subscription ends now, not when collected


def gated(request: Request, events: AsyncGenerator[bytes, None]) -> StreamingResponse:
    """`events` as an SSE response, within the app's StreamGate (503 when it is full)."""
    gate: StreamGate = request.app.state.streams
    gate.admit()
    return sse_response(gate.bounded(events))


def sse(event: str, data: object) -> bytes:
    return f"event: {event}\ndata: ".encode() + _encode(data) + b"\n\n"


def sse_response(events: AsyncIterator[bytes]) -> StreamingResponse:
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(events, media_type="text/event-stream", headers=headers)


async def notices(
    request: Request, services: Services, project_id: str
) -> AsyncIterator[frozenset[str] | None]:
    """The distinct ids each processed slice changed in the project; None for a heartbeat.
    Yields one None first, once subscribed, so a reader can load state without a gap."""
    async with services.live.subscribe(project_id) as queue:
        yield None
        while not await request.is_disconnected():
            try:
                yield await asyncio.wait_for(queue.get(), HEARTBEAT_S)
            except TimeoutError:
                yield None


async def live_context(
    request: Request, services: Services, project: Project, user_id: str, options: ContextOptions
) -> AsyncGenerator[bytes, None]:
    """`context` now and whenever the person's events are processed; `waiting` while the id
    is not known yet (a visitor whose first events are still on their way)."""
    ids, first = {user_id}, True
    async for changed in notices(request, services, project.id):
        if changed is None and not first:
            yield KEEP_ALIVE
            continue
        if changed is not None and not touches(changed, ids):
            continue
        first = False
        rendered = await _context_or_none(services, project, user_id, options)
        if rendered is None:
            yield sse("waiting", {"user_id": user_id})
            continue
        ids = {user_id, *rendered.ids}  # as stored: the context masks an email used as an id
        yield sse("context", rendered.context())


async def _context_or_none(
    services: Services, project: Project, user_id: str, options: ContextOptions
) -> Rendered | None:
    try:
        return await services.context.rendered(project, user_id, options)
    except NotFound:
        return None
