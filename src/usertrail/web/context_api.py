"""GET /context/user/{user_id}: the context object for the chatbot, as JSON or Markdown."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response, StreamingResponse

from usertrail.core.context.build import TOKENS_MAX, TOKENS_MIN, ContextOptions
from usertrail.core.ids import ID_RULE, ID_SCHEMA, checked_id
from usertrail.errors import NotFound
from usertrail.services.context_cache import Rendered
from usertrail.services.live import touches
from usertrail.web.deps import services_of
from usertrail.web.read_auth import READ_ERRORS, ApiKey, project_of
from usertrail.web.sse import gated

router = APIRouter(tags=["context"])


HEARTBEAT_S = 15.0
_CONTEXT_OK = {
    "description": "The context object, or with format=markdown its prompt block",
    "content": {"text/markdown": {"schema": {"type": "string"}}},
}
# Routes take ids as `{user_id:path}`: an id may hold `/` (sent as is or as %2F). Each route
# checks the id against core.ids after the key, so a wrong key is 401 whatever the id.
UserId = Annotated[
    str,
    Path(
        description="Any of the user's distinct ids: " + ID_RULE,
        examples=["user_42"],
        json_schema_extra=ID_SCHEMA,  # stated for clients, checked by checked_id (400)
    ),
]
# The query's bounds, shared with the cache lane (web.context_lane), which must agree.
N_MAX = 500
N_HELP = "How many recent events (default 20; with max_tokens, as many as the budget holds)"
TOKENS_HELP = (
    "Token budget (cl100k) for what is returned: the Markdown block is filled up to it, most "
    "useful first; the JSON object is cut to it. 400 if the header alone is larger"
)
MaxTokens = Annotated[int | None, Query(ge=TOKENS_MIN, le=TOKENS_MAX, description=TOKENS_HELP)]
Format = Annotated[Literal["json", "markdown"], Query(description="json or markdown")]
INCLUDE_HELP = "JSON only: also the Markdown block as `prompt` (the same facts twice)"
MEDIA_TYPES = {"json": "application/json", "markdown": "text/markdown; charset=utf-8"}


def rendered_response(rendered: Rendered, format: str) -> Response:
    return Response(rendered.body(format), media_type=MEDIA_TYPES[format])


@router.get(
    "/context/user/{user_id:path}/stream",
    summary="Server-sent events: the context, live",
    responses=READ_ERRORS,
)
async def user_context_stream(
    request: Request,
    user_id: UserId,
    credentials: ApiKey,
    n: Annotated[int | None, Query(ge=0, le=N_MAX, description=N_HELP)] = None,
    max_tokens: MaxTokens = None,
    include: Annotated[Literal["prompt"] | None, Query(description=INCLUDE_HELP)] = None,
) -> StreamingResponse:
    """One `context` event now, then one each time this user's events are processed."""
    services = services_of(request)
    project = await project_of(request, credentials)
    options = ContextOptions(n=n, max_tokens=max_tokens, include_prompt=include == "prompt")
    user_id = checked_id(user_id)
    first = await services.context.rendered(project, user_id, options)  # 404 before streaming

    async def events() -> AsyncGenerator[bytes, None]:
        current = first
        async with services.live.subscribe(project.id) as notices:
            yield _sse(current)
            while not await request.is_disconnected():
                try:
                    changed = await asyncio.wait_for(notices.get(), HEARTBEAT_S)
                except TimeoutError:
                    yield b": keep-alive\n\n"
                    continue
                if touches(changed, {user_id, *current.ids}):
                    try:
                        current = await services.context.rendered(project, user_id, options)
                    except NotFound:  # erased (DELETE /persons/{id}): the stream ends
                        return
                    yield _sse(current)

    return gated(request, events())


def _sse(rendered: Rendered) -> bytes:
    """The same JSON as GET /context/user/{id} with these options."""
    return b"event: context\ndata: " + rendered.json + b"\n\n"


# After the stream route: `{user_id:path}` also matches `/context/user/<id>/stream`.
@router.get(
    "/context/user/{user_id:path}",
    summary="What this user has been doing, for an LLM",
    responses={**READ_ERRORS, 200: _CONTEXT_OK},
)
async def user_context(
    request: Request,
    user_id: UserId,
    credentials: ApiKey,
    n: Annotated[int | None, Query(ge=0, le=N_MAX, description=N_HELP)] = None,
    max_tokens: MaxTokens = None,
    format: Format = "json",
    include: Annotated[Literal["prompt"] | None, Query(description=INCLUDE_HELP)] = None,
) -> Response:
    service = services_of(request).context
    project = await project_of(request, credentials)
    options = ContextOptions(
        n=n, max_tokens=max_tokens, format=format, include_prompt=include == "prompt"
    )
    rendered = await service.rendered(project, checked_id(user_id), options)
    return rendered_response(rendered, format)
