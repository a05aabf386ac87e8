"""/mcp over HTTP refuses a missing or wrong API key at connect (401 before any MCP message),
so a misconfigured assistant fails when it starts, not at its first tool call.

The body is a JSON-RPC error: MCP clients surface its message ("wrong API key") instead of a
bare "server returned an error"."""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from usertrail.web.context_api import bearer

if TYPE_CHECKING:
    from usertrail.wiring import Runtime


WRONG_KEY = "missing or wrong API key (send 'Authorization: Bearer <key>')"
UNAUTHORIZED = -32001  # JSON-RPC leaves -32000..-32099 to servers
REFUSED = Response(
    orjson.dumps(
        {"jsonrpc": "2.0", "id": None, "error": {"code": UNAUTHORIZED, "message": WRONG_KEY}}
    ),
    status_code=401,
    media_type="application/json",
    headers={"WWW-Authenticate": "Bearer"},
)


class McpKeyGate:
    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self._runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not await self._known_key(scope):
            await REFUSED(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _known_key(self, scope: Scope) -> bool:
        headers = dict(scope["headers"])
        key = bearer(headers.get(b"authorization", b"").decode("latin-1"))
        return await self._runtime.context.lookup_key(key) is not None
