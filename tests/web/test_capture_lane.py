"""The capture lane (web.capture_lane): capture and webhook POSTs answered before FastAPI give
the same status, body and headers (CORS, Retry-After) as the routes behind the whole app, and
are counted the same way."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from starlette.types import ASGIApp

from tests.live import TOKEN, WEBHOOK_SECRET
from usertrail.front import Services
from usertrail.settings import Settings
from usertrail.web.app import create_app, served_app
from usertrail.web.capture_lane import CaptureLane
from usertrail.wiring import Runtime, build_runtime

EVENT = {"event": "$pageview", "distinct_id": "u1", "uuid": "0193a1b2-0000-7000-8000-0000000000aa"}
WEBHOOK = {"event": {**EVENT, "properties": {}}, "person": {"properties": {"plan": "free"}}}
ORIGIN = {"Origin": "https://app.acme.test"}
SECRET = {"Authorization": f"Bearer {WEBHOOK_SECRET}"}

REQUESTS: dict[str, tuple[str, bytes, dict[str, str]]] = {
    "event": ("/e/", orjson.dumps({**EVENT, "api_key": TOKEN}), {}),
    "event from a browser": ("/i/v0/e/", orjson.dumps({**EVENT, "api_key": TOKEN}), ORIGIN),
    "batch": ("/batch", orjson.dumps({"api_key": TOKEN, "batch": [EVENT]}), ORIGIN),
    "unknown token": ("/e/", orjson.dumps({**EVENT, "api_key": "phc_nope"}), ORIGIN),
    "bad json": ("/e/", b"{not json", {}),
    "no events": ("/batch/", orjson.dumps({"api_key": TOKEN, "batch": []}), {}),
    "too large": ("/e/", b"{}", {"Content-Length": "30000000"}),
    "webhook": ("/webhooks/posthog", orjson.dumps(WEBHOOK), SECRET),
    "webhook, wrong secret": ("/webhooks/posthog/", orjson.dumps(WEBHOOK), ORIGIN),
}
COMPARED_HEADERS = (
    "content-type",
    "retry-after",
    "access-control-allow-origin",
    "access-control-allow-credentials",
    "vary",
)


def _runtime(path: Path) -> Iterator[Runtime]:
    settings = Settings(
        data_dir=path,
        demo=False,
        project_token=TOKEN,
        webhook_secret=WEBHOOK_SECRET,
        processor_process=False,
    )
    runtime = build_runtime(settings)
    yield runtime
    asyncio.run(runtime.close())


@pytest.fixture
def lane_runtime(tmp_path: Path) -> Iterator[Runtime]:
    yield from _runtime(tmp_path / "lane")


@pytest.fixture
def app_runtime(tmp_path: Path) -> Iterator[Runtime]:
    yield from _runtime(tmp_path / "app")


async def _post(app: ASGIApp, path: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.post(path, content=body, headers=headers)


def _answer(response: httpx.Response) -> tuple[int, Any, dict[str, str | None]]:
    headers = {name: response.headers.get(name) for name in COMPARED_HEADERS}
    return response.status_code, response.json(), headers


@pytest.mark.parametrize("name", list(REQUESTS))
def test_the_lane_answers_as_the_routes_do(
    name: str, lane_runtime: Runtime, app_runtime: Runtime
) -> None:
    path, body, headers = REQUESTS[name]
    served = served_app(create_app(lane_runtime.settings, lane_runtime))
    routed = create_app(app_runtime.settings, app_runtime)
    lane = asyncio.run(_post(served, path, body, headers))
    app = asyncio.run(_post(routed, path, body, headers))
    assert _answer(lane) == _answer(app)


def test_the_lane_answers_without_the_app(lane_runtime: Runtime) -> None:
    app = _StateOnly(create_app(lane_runtime.settings, lane_runtime))
    lane = CaptureLane(app, Services.of(lane_runtime), timeout_s=5)
    path, body, headers = REQUESTS["event"]
    response = asyncio.run(_post(lane, path, body, headers))
    assert response.status_code == 200
    assert response.content == b'{"status":1}'
    exposition = lane_runtime.metrics.exposition().decode()
    assert 'usertrail_request_seconds_count{route="capture"} 1.0' in exposition


class _StateOnly:
    """An app object with the real app's state, that fails if it is asked to answer."""

    def __init__(self, app: Any) -> None:
        self.state = app.state

    async def __call__(self, *_: Any) -> None:
        raise AssertionError("the request reached the app")


def test_a_crash_in_the_lane_is_a_problem_that_tells_nothing_of_it(
    lane_runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def crash(_request: object) -> None:
        raise RuntimeError("user_42's secret")

    monkeypatch.setattr(lane_runtime.ingest, "capture", crash)  # a fault, injected
    served = served_app(create_app(lane_runtime.settings, lane_runtime))
    path, body, headers = REQUESTS["event"]
    response = asyncio.run(_post(served, path, body, headers))
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "internal"
    assert "secret" not in response.text
