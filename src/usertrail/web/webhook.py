"""PostHog's HTTP Webhook destination: `POST /webhooks/posthog` with a per-project secret."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from usertrail.web.capture import capture_request
from usertrail.web.deps import services_of
from usertrail.web.responses import json_response

SECRET_HEADERS = ("x-usertrail-secret", "x-webhook-secret")


def webhook_secret(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    for name in SECRET_HEADERS:
        if value := request.headers.get(name):
            return value
    return None


async def posthog_webhook(request: Request) -> Response:
    req = await capture_request(request)
    result = await services_of(request).ingest.webhook(webhook_secret(request), req)
    return json_response(
        {"status": 1, "accepted": result.accepted, "duplicates": result.duplicates}
    )
