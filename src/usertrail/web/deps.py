"""Request -> runtime objects. The runtime lives on app.state: create_app(settings) builds it
(wiring.build_runtime) or takes the one it is given; the lifespan only starts and closes it."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from starlette.requests import HTTPConnection

if TYPE_CHECKING:
    from usertrail.wiring import Runtime


def runtime_of(conn: HTTPConnection) -> Runtime:
    return cast("Runtime", conn.app.state.runtime)
