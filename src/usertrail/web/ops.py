"""/healthz (process is up), /readyz (storage answers; whether `serve`'s processor stands
by), /metrics (Prometheus)."""

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
    services = services_of(request)
    problems = await services.readiness()
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
    if (leader := services.processor_standby()) is not None:
        standby = {"processor": "standby", "detail": _standby(leader)}
        return json_response({"status": "ready", **standby})
    return json_response({"status": "ready"})


def _standby(leader: int) -> str:
    """Ready all the same: capture and reads work, the other processor processes for both."""
    # The lock's holder: another `serve`, or a standalone `usertrail worker`. Its pid is
    # known from the lock file in this data directory; one on another data directory or host
    # (PostgreSQL's lock) leaves none here.
    other = (
        f"the usertrail process with pid {leader}"
        if leader
        else "another usertrail process (its pid is not known here: it uses another data "
        "directory, or runs on another host)"
    )
    return (
        f"{other} processes this database (the events captured here too); this server's "
        "processor stands by and takes over when that process ends. For more servers on one "
        "port use `usertrail serve --processes N`"
    )


async def metrics(request: Request) -> Response:
    exposition = await services_of(request).metrics_exposition()
    return Response(exposition, media_type=CONTENT_TYPE_LATEST)
