"""GET /context/group/{group_type}/{group_key}: an account's context, as JSON or Markdown.

Same key, same project rule and same `max_tokens` bounds as GET /context/user/{id}; the budget
counts what is returned (the Markdown block, or the JSON object, which does not repeat it).
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from usertrail.core.context.account import AccountOptions
from usertrail.core.context.account_render import render_account
from usertrail.core.context.build import DEFAULT_EVENTS
from usertrail.web.context_api import MEDIA_TYPES, N_MAX, Format, MaxTokens
from usertrail.web.deps import services_of
from usertrail.web.read_auth import READ_ERRORS, ApiKey, project_of

router = APIRouter(tags=["context"])
_encode = msgspec.json.Encoder().encode
_OK = {
    "description": "The account's context object, or with format=markdown its prompt block",
    "content": {"text/markdown": {"schema": {"type": "string"}}},
}
GroupType = Annotated[
    str, Path(max_length=64, description="The group type, as in `$groups`", examples=["company"])
]
GroupKey = Annotated[
    str,
    Path(
        max_length=400,
        description="The group's key; it may hold slashes (PostHog keys are free text)",
        examples=["acme-inc"],
    ),
]


@router.get(
    "/context/group/{group_type}/{group_key:path}",
    summary="What this account (a PostHog group) has been doing, for an LLM",
    responses={**READ_ERRORS, 200: _OK},
)
async def group_context(
    request: Request,
    group_type: GroupType,
    group_key: GroupKey,
    credentials: ApiKey,
    n: Annotated[int, Query(ge=0, le=N_MAX, description="How many recent events")] = DEFAULT_EVENTS,
    max_tokens: MaxTokens = None,
    format: Format = "json",
) -> Response:
    project = await project_of(request, credentials)
    options = AccountOptions(n=n, max_tokens=max_tokens)
    accounts = services_of(request).accounts
    ctx = await accounts.for_group(project, (group_type, group_key), options, format)
    body = render_account(ctx).encode() if format == "markdown" else _encode(ctx)
    return Response(body, media_type=MEDIA_TYPES[format])
