"""The cached-context lane (web.context_lane): a cache hit is answered before FastAPI, with the
same bytes, limits, metrics and CORS as the route; everything else reaches the route."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from posthog import Posthog
from starlette.types import Message

from tests.factories import make_raw
from tests.live import API_KEY, TOKEN, LiveServer, wait_for
from usertrail.core.context.build import ContextOptions
from usertrail.front import Services
from usertrail.settings import Settings
from usertrail.web.context_lane import CachedContextLane, parse_query
from usertrail.wiring import Runtime, build_runtime

# --- The query it recognises: anything else goes to the route's validation -----------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (b"", ContextOptions()),
        (b"n=5", ContextOptions(n=5)),
        (b"n=500&max_tokens=64", ContextOptions(n=500, max_tokens=64)),
        (b"format=markdown&n=0", ContextOptions(n=0, format="markdown")),
        (b"max_tokens=200000", ContextOptions(max_tokens=200_000)),
        (b"include=prompt&n=3", ContextOptions(n=3, include_prompt=True)),
    ],
)
def test_plain_queries_in_bounds_are_recognised(query: bytes, expected: ContextOptions) -> None:
    assert parse_query(query) == expected


@pytest.mark.parametrize(
    "query",
    [
        b"n=501",  # over the route's bound: its 422
        b"n=-1",
        b"n=abc",
        b"n=",
        b"max_tokens=63",
        b"max_tokens=200001",
        b"format=xml",
        b"n=5&n=6",  # repeated
        b"n=5&",  # an empty part
        b"n=%35",  # percent-encoded: left to the route's parser
        b"utm=1",  # unknown: the route ignores it, the lane does not guess
        b"include=events",  # not an include the route knows: its 422
        b"include=prompt&include=prompt",
    ],
)
def test_anything_else_is_left_to_the_route(query: bytes) -> None:
    assert parse_query(query) is None


# --- In process: what reaches the app behind the lane --------------------------------------


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    rt = build_runtime(Settings(data_dir=tmp_path, demo=False))
    project = rt.default_project.id
    await rt.event_log.append(
        [make_raw("$pageview", distinct_id="u1", at=i, project_id=project) for i in range(3)]
    )
    await rt.processor.drain()
    yield rt
    await rt.close()


async def call(lane: CachedContextLane, path: str, query: bytes = b"", **headers: str) -> Any:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "query_string": query,
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
    }
    await lane(scope, receive, send)
    return sent


class BehindTheLane:
    """The app behind the lane: records what reaches it and answers 299."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.paths.append(scope["path"])
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b""})


@pytest.fixture
def app() -> BehindTheLane:
    return BehindTheLane()


@pytest.fixture
def lane(app: BehindTheLane, runtime: Runtime) -> CachedContextLane:
    return CachedContextLane(app, Services.of(runtime))


def auth_of(runtime: Runtime) -> str:
    return f"Bearer {runtime.default_project.api_key}"


async def test_a_hit_is_answered_with_the_cached_bytes_and_never_reaches_the_app(
    runtime: Runtime, app: BehindTheLane, lane: CachedContextLane
) -> None:
    auth = auth_of(runtime)
    cached = await runtime.context.rendered(runtime.default_project, "u1", ContextOptions(n=5))

    start, body = await call(lane, "/context/user/u1", b"n=5", authorization=auth)
    assert start["status"] == 200
    assert dict(start["headers"])[b"content-type"] == b"application/json"
    assert body["body"] == cached.json
    as_markdown = ContextOptions(n=5, format="markdown")
    cached = await runtime.context.rendered(runtime.default_project, "u1", as_markdown)
    _, markdown = await call(lane, "/context/user/u1", b"n=5&format=markdown", authorization=auth)
    assert markdown["body"] == cached.markdown
    assert app.paths == []


async def test_every_option_the_route_reads_is_part_of_the_hits_key(
    runtime: Runtime, app: BehindTheLane, lane: CachedContextLane
) -> None:
    auth = auth_of(runtime)
    asked = ContextOptions(n=5, max_tokens=500, include_prompt=True)
    cached = await runtime.context.rendered(runtime.default_project, "u1", asked)
    query = b"n=5&max_tokens=500&include=prompt"
    _, body = await call(lane, "/context/user/u1", query, authorization=auth)
    assert body["body"] == cached.json
    assert b'"prompt":' in cached.json
    await call(lane, "/context/user/u1", b"n=5&max_tokens=500", authorization=auth)  # no prompt
    await call(lane, "/context/user/u1", query + b"&format=markdown", authorization=auth)
    assert app.paths == ["/context/user/u1"] * 2


async def test_misses_wrong_keys_browsers_and_other_routes_reach_the_app(
    runtime: Runtime, app: BehindTheLane, lane: CachedContextLane
) -> None:
    auth = auth_of(runtime)
    await runtime.context.rendered(runtime.default_project, "u1", ContextOptions())

    await call(lane, "/context/user/u1", b"n=7", authorization=auth)  # other options: a miss
    await call(lane, "/context/user/u1", authorization="Bearer utk_wrong")
    await call(lane, "/context/user/u1")  # no key
    await call(lane, "/context/user/u1", authorization=auth, origin="https://app.acme.test")
    await call(lane, "/context/user/u1/stream", authorization=auth)
    await call(lane, "/context/user/u1", b"n=501", authorization=auth)
    assert len(app.paths) == 6
    await call(lane, "/context/user/u1", authorization=auth)
    assert len(app.paths) == 6  # the hit


async def test_a_new_event_for_the_user_sends_the_next_read_to_the_app(
    runtime: Runtime, app: BehindTheLane, lane: CachedContextLane
) -> None:
    auth = auth_of(runtime)
    await runtime.context.rendered(runtime.default_project, "u1", ContextOptions())
    event = make_raw(
        "report_exported", distinct_id="u1", at=9, project_id=runtime.default_project.id
    )
    await runtime.event_log.append([event])
    await runtime.processor.drain()
    await call(lane, "/context/user/u1", authorization=auth)
    assert app.paths == ["/context/user/u1"]


# --- On a real server: the lane and the route give the same answers -------------------------


BURST = 30


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = {"USERTRAIL_READ_RATE_PER_S": "1", "USERTRAIL_READ_BURST": str(BURST)}
    live = LiveServer(data_dir=tmp_path_factory.mktemp("lane") / "data", env=env).start()
    client = Posthog(TOKEN, host=live.url, sync_mode=True)
    client.capture(
        "$pageview", distinct_id="u_lane", properties={"$current_url": "https://a.test/"}
    )
    # Processed, and its change notice heard: the processor runs in a process of its own,
    # whose notice could otherwise drop the context the first read below cached. (The
    # processor's counts come over the same socket, after the notice.)
    wait_for(lambda: processed(live) >= 1, what="the event processed and noticed")
    yield live
    live.stop()


def processed(server: LiveServer) -> float:
    metrics = httpx.get(f"{server.url}/metrics").text
    line = next(x for x in metrics.splitlines() if x.startswith("usertrail_events_processed_total"))
    return float(line.rsplit(" ", 1)[1])


def get(server: LiveServer, path: str, **headers: str) -> httpx.Response:
    return httpx.get(server.url + path, headers={"Authorization": f"Bearer {API_KEY}", **headers})


def context_requests(server: LiveServer) -> float:
    metrics = httpx.get(f"{server.url}/metrics").text
    line = next(
        x
        for x in metrics.splitlines()
        if x.startswith('usertrail_request_seconds_count{route="context"')
    )
    return float(line.rsplit(" ", 1)[1])


def test_the_lanes_answers_equal_the_routes_and_are_counted_and_limited(
    server: LiveServer,
) -> None:
    path = "/context/user/u_lane?n=3"
    first = wait_for(lambda: r if (r := get(server, path)).status_code == 200 else None)
    counted = context_requests(server)
    hit = get(server, path)  # cached by the first: the lane answers it
    assert (hit.status_code, hit.headers["content-type"], hit.content) == (
        200,
        first.headers["content-type"],
        first.content,
    )
    browser = get(server, path, origin="https://app.acme.test")  # the app's CORS answers it
    assert browser.content == first.content
    assert browser.headers["access-control-allow-origin"] == "https://app.acme.test"
    markdown = [get(server, path + "&format=markdown") for _ in range(2)]  # the route, the lane
    assert markdown[0].headers["content-type"] == markdown[1].headers["content-type"]
    assert markdown[0].headers["content-type"].startswith("text/markdown")
    block = get(server, path + "&include=prompt").json()["prompt"]  # asked: the block in JSON
    assert "prompt" not in first.json()  # not asked: no fact twice
    assert markdown[0].content == markdown[1].content == block.encode()
    assert context_requests(server) == counted + 5
    # Hits take read tokens too: BURST + 10 reads in far less than 10 s must meet the limit.
    refused = [r for r in (get(server, path) for _ in range(BURST + 10)) if r.status_code != 200]
    assert refused
    assert {r.status_code for r in refused} == {429}
    assert refused[0].json()["code"] == "rate_limited"
    assert int(refused[0].headers["retry-after"]) >= 1
