"""The read key in an `Authorization: Bearer` header, read one way by every reader of it: the
context API and its lanes (web/) and the MCP server, which the web app mounts."""

from __future__ import annotations


def bearer(authorization: str | None) -> str | None:
    if authorization and authorization[:7].lower() == "bearer ":
        return authorization[7:].strip() or None
    return None
