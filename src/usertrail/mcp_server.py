"""usertrail over MCP: tools and a resource an assistant can call for user context.

Served over stdio (`usertrail mcp`, the API key given at start) and over streamable HTTP at
`/mcp` in the app (the API key as `Authorization: Bearer`, checked on every call). The project
always comes from the key, exactly as for `GET /context/user/{id}`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, Literal

import msgspec
from mcp.server import MCPServer
from mcp.server.mcpserver.context import Context
from mcp.server.mcpserver.exceptions import ToolError

from usertrail import __version__
from usertrail.authorization import bearer
from usertrail.core.context.build import MAX_EVENTS, TOKENS_MIN, ContextOptions
from usertrail.core.ids import checked_id
from usertrail.errors import UsertrailError
from usertrail.front import Services
from usertrail.model.context import UserContext
from usertrail.model.project import Project

INSTRUCTIONS = (
    "usertrail knows what each user of this product has been doing (pages, clicks, features, "
    "errors, patterns). Call get_user_context before answering a user's question, and "
    "search_help to find the help article for it."
)


def build_mcp(services: Services, api_key: str | None = None) -> MCPServer:
    """`api_key` fixes the project (stdio); without it each HTTP request must carry one."""
    mcp: MCPServer = MCPServer("usertrail", version=__version__, instructions=INSTRUCTIONS)

    async def project_of(ctx: Context) -> Project:
        key = api_key
        request = ctx.request_context.request if key is None else None
        if request is not None:
            key = bearer(request.headers.get("authorization"))
        with as_tool_error():
            return await services.context.project_for_key(key)

    async def context_of(project: Project, user_id: str, options: ContextOptions) -> UserContext:
        with as_tool_error():
            return await services.context.for_user(project, checked_id(user_id), options)

    @mcp.tool()
    async def get_user_context(
        user_id: str,
        ctx: Context,
        max_tokens: int | None = None,
        n: int | None = None,
        format: Literal["markdown", "json"] = "markdown",
    ) -> str:
        """What this user has been doing, as a Markdown block to put in your prompt: who they
        are, their last session, patterns and suggested next steps, then events newest first.
        `max_tokens` fills the block up to that budget; `format="json"` gives the structured
        object instead. Any of the user's ids works."""
        project = await project_of(ctx)
        options = ContextOptions(
            n=None if n is None else max(0, min(n, MAX_EVENTS)),
            max_tokens=max_tokens if max_tokens is None else max(max_tokens, TOKENS_MIN),
            format=format,
        )
        with as_tool_error():
            rendered = await services.context.rendered(project, checked_id(user_id), options)
        return rendered.body(format).decode()

    @mcp.tool()
    async def list_active_users(ctx: Context, minutes: int = 30) -> list[dict[str, Any]]:
        """Users with activity in the last `minutes`, most recent first."""
        project = await project_of(ctx)
        since = services.clock() - timedelta(minutes=max(1, min(minutes, 60 * 24 * 30)))
        active = await services.store.active_persons(project.id, since, limit=200)
        return [{"user_id": key, "last_seen": last.isoformat()} for key, last in active]

    @mcp.tool()
    async def search_help(user_id: str, query: str, ctx: Context, k: int = 5) -> dict[str, Any]:
        """Help-article chunks for the user's question, ranked with what the user has been
        doing (current page, recent features and errors); each says why it was boosted."""
        project = await project_of(ctx)
        with as_tool_error():
            user_id = checked_id(user_id)
            found = await services.assistant.search(project, user_id, query, max(1, min(k, 20)))
        return dict(msgspec.to_builtins(found))

    @mcp.resource("context://user/{user_id}", mime_type="text/markdown")
    async def user_context(user_id: str, ctx: Context) -> str:
        """The prompt-ready context block for one user."""
        project = await project_of(ctx)
        options = ContextOptions(format="markdown")
        return (await context_of(project, user_id, options)).prompt or ""

    return mcp


@contextmanager
def as_tool_error() -> Iterator[None]:
    """Our clear errors (wrong key, unknown user) reach the model as tool errors it can read."""
    try:
        yield
    except UsertrailError as exc:
        raise ToolError(exc.detail) from exc
