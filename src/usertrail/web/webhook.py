"""PostHog's HTTP Webhook destination: `POST /webhooks/posthog` with a per-project secret."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import Response

from usertrail.ports import AppendResult
from usertrail.web.capture import capture_request
from usertrail.web.deps import services_of
from usertrail.web.responses import json_response

SECRET_HEADERS = ("x-usertrail-secret", "x-webhook-secret")


def webhook_secret(headers: Mapping[str, str]) -> str | None:
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    for name in SECRET_HEADERS:
        if value := headers.get(name):
            return value
    return None


async def posthog_webhook(request: Request) -> Response:
    req = await capture_request(request)
    result = await services_of(request).ingest.webhook(webhook_secret(request.headers), req)
    return json_response(webhook_answer(result))


def webhook_answer(result: AppendResult) -> dict[str, int]:
    return {"status": 1, "accepted": result.accepted, "duplicates": result.duplicates}
