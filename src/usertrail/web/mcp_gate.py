"""How /mcp over HTTP refuses a missing or wrong API key at connect (web.guard checks it
before any body is read): 401 before any MCP message, so a misconfigured assistant fails when
it starts, not at its first tool call. The body is a JSON-RPC error: MCP clients surface its
message ("wrong API key") instead of a bare "server returned an error"."""

from __future__ import annotations

import orjson
from starlette.responses import Response

WRONG_KEY = "missing or wrong API key (send 'Authorization: Bearer <key>')"
UNAUTHORIZED = -32001  # JSON-RPC leaves -32000..-32099 to servers
MCP_REFUSED = Response(
    orjson.dumps(
        {"jsonrpc": "2.0", "id": None, "error": {"code": UNAUTHORIZED, "message": WRONG_KEY}}
    ),
    status_code=401,
    media_type="application/json",
    headers={"WWW-Authenticate": "Bearer"},
)
