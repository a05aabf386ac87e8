"""`/i/v0/ai`: PostHog's LLM-analytics capture (multipart, token in the Authorization header)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from usertrail.core.ai_capture import ai_event
from usertrail.core.decode import GZIP_MAGIC, MAX_DECOMPRESSED_BYTES, gunzip
from usertrail.web.capture import read_body
from usertrail.web.deps import services_of
from usertrail.web.responses import CAPTURE_OK


async def capture_ai(request: Request) -> Response:
    body = await read_body(request)
    if body.startswith(GZIP_MAGIC) or "gzip" in request.headers.get("content-encoding", ""):
        body = gunzip(body, MAX_DECOMPRESSED_BYTES)
    event = ai_event(body, request.headers.get("content-type", ""))
    auth = request.headers.get("authorization", "")
    token = auth[7:].strip() if auth.lower().startswith("bearer ") else None
    payload = {"api_key": token, "batch": [event]} if token else [event]
    ip = request.client.host if request.client else None
    await services_of(request).ingest.capture_payload(payload, query={}, ip=ip)
    return Response(CAPTURE_OK, media_type="application/json")
