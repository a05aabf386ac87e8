"""The PostHog capture endpoints, and the config/flags endpoints posthog-js needs first."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

from usertrail.errors import PayloadTooLarge
from usertrail.services.ingest import CaptureRequest
from usertrail.web.deps import services_of
from usertrail.web.responses import CAPTURE_OK

# `/s` (recordings) is web.proxy's: forwarded to PostHog when there is one, else captured.
CAPTURE_PATHS = ("/e", "/i/v0/e", "/batch", "/capture", "/track", "/engage", "/i/v0/ai/batch")
MAX_BODY_BYTES = 20 * 1024 * 1024


async def capture(request: Request, body: bytes | None = None) -> Response:
    req = await capture_request(request, body)
    await services_of(request).ingest.capture(req)
    return Response(CAPTURE_OK, media_type="application/json")


async def capture_request(request: Request, body: bytes | None = None) -> CaptureRequest:
    """`body` when the caller has read it already (the recordings proxy)."""
    if body is None:
        body = await read_body(request)
    return capture_request_of(request.scope, request.headers, body)


def capture_request_of(scope: Scope, headers: Mapping[str, str], body: bytes) -> CaptureRequest:
    """What ingest needs of a request whose body has been read (web.capture_lane calls this
    with the few headers it picked out of the scope)."""
    query = dict(QueryParams(scope["query_string"])) if scope["query_string"] else {}
    if scope["method"] == "GET" and not body and "data" in query:
        body = query["data"].encode()
        query.setdefault("compression", "base64")
    client = scope.get("client")
    return CaptureRequest(
        body=body,
        content_type=headers.get("content-type", ""),
        content_encoding=headers.get("content-encoding", ""),
        query=query,
        engage=scope["path"].rstrip("/").endswith("/engage"),
        ip=client[0] if client else None,
    )


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """Read at most `limit` bytes: a huge upload is refused without being buffered."""
    refuse_declared(request.headers.get("content-length"), limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"request body exceeds {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def refuse_declared(declared: str | None, limit: int) -> None:
    """PayloadTooLarge when the Content-Length says the body is over `limit`."""
    if declared and declared.isdigit() and (len(declared) > 18 or int(declared) > limit):
        raise PayloadTooLarge(f"request body is {declared} bytes; the limit is {limit}")
