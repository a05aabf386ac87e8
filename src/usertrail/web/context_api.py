"""GET /context/user/{user_id}: the context object for the chatbot, as JSON or Markdown."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from fastapi import APIRouter, Header, Query, Request
from starlette.responses import Response

from usertrail.core.context.build import ContextOptions
from usertrail.web.deps import runtime_of

router = APIRouter(tags=["context"])
_encode = msgspec.json.Encoder().encode


def bearer(authorization: str | None) -> str | None:
    if authorization and authorization[:7].lower() == "bearer ":
        return authorization[7:].strip() or None
    return None


@router.get("/context/user/{user_id}", summary="What this user has been doing, for an LLM")
async def user_context(
    request: Request,
    user_id: str,
    n: Annotated[int, Query(ge=0, le=500, description="How many recent events")] = 20,
    max_tokens: Annotated[
        int | None, Query(ge=64, le=200_000, description="Token budget for the whole object")
    ] = None,
    format: Annotated[Literal["json", "markdown"], Query(description="json or markdown")] = "json",
    authorization: Annotated[str | None, Header()] = None,
) -> Response:
    service = runtime_of(request).context
    project = await service.project_for_key(bearer(authorization))
    ctx = await service.for_user(project, user_id, ContextOptions(n=n, max_tokens=max_tokens))
    if format == "markdown":
        return Response(ctx.prompt, media_type="text/markdown; charset=utf-8")
    return Response(_encode(ctx), media_type="application/json")
