"""/healthz (process is up), /readyz (storage answers), /metrics (Prometheus)."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response

from usertrail.web.deps import services_of
from usertrail.web.problems import instance_of, problem
from usertrail.web.responses import json_response


async def healthz(request: Request) -> Response:
    return json_response({"status": "ok"})


async def readyz(request: Request) -> Response:
    problems = await services_of(request).readiness()
    if problems:
        detail = "not ready: " + "; ".join(problems)
        return problem(
            503,
            detail,
            instance=instance_of(request.scope),
            code="not_ready",
            headers={"Retry-After": "5"},
            problems=problems,
        )
    return json_response({"status": "ready"})


async def metrics(request: Request) -> Response:
    exposition = await services_of(request).metrics_exposition()
    return Response(exposition, media_type=CONTENT_TYPE_LATEST)
