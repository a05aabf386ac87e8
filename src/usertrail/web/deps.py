"""Request -> the services the handlers use (usertrail.front). create_app(settings) puts them
on app.state; the lifespan only starts and closes the runtime behind them."""

from __future__ import annotations

from typing import cast

from starlette.requests import HTTPConnection

from usertrail.front import Services


def services_of(conn: HTTPConnection) -> Services:
    return cast("Services", conn.app.state.services)
