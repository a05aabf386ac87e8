"""Request -> runtime objects. The runtime lives on app.state, built by the lifespan."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from starlette.requests import HTTPConnection

if TYPE_CHECKING:
    from usertrail.wiring import Runtime


def runtime_of(conn: HTTPConnection) -> Runtime:
    return cast("Runtime", conn.app.state.runtime)
