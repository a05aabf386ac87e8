"""Per-project read rate limits on a real server: 429 + Retry-After for reads, never for capture,
and one project's reads never use up another's."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import TextContent

from tests.live import API_KEY, TOKEN, LiveServer
from tests.projects import stored_project

BURST = 3


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    env = {"USERTRAIL_READ_RATE_PER_S": "1", "USERTRAIL_READ_BURST": str(BURST)}
    live = LiveServer(data_dir=tmp_path / "data", env=env).start()
    yield live
    live.stop()


def read(server: LiveServer, key: str = API_KEY, path: str = "/context/user/nobody") -> int:
    headers = {"Authorization": f"Bearer {key}"}
    return httpx.get(f"{server.url}{path}", headers=headers).status_code


def use_up_the_burst(server: LiveServer) -> httpx.Response:
    assert [read(server) for _ in range(BURST)] == [404] * BURST  # an unknown user is a read too
    return httpx.get(
        f"{server.url}/context/user/nobody", headers={"Authorization": f"Bearer {API_KEY}"}
    )


def test_reads_past_the_burst_get_429_with_retry_after_and_a_reason(server: LiveServer) -> None:
    refused = use_up_the_burst(server)
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.json()["code"] == "rate_limited"
    assert "read limit" in refused.json()["detail"]


def test_every_read_api_shares_the_project_limit(server: LiveServer) -> None:
    use_up_the_burst(server)
    auth = {"Authorization": f"Bearer {API_KEY}"}
    assert read(server, path="/actions/user/nobody") == 429
    assert read(server, path="/ui/api/active") == 429
    body = {"user_id": "nobody", "query": "why did it fail?"}
    assert httpx.post(f"{server.url}/retrieve", json=body, headers=auth).status_code == 429


async def test_mcp_tools_over_the_limit_say_so(server: LiveServer) -> None:
    use_up_the_burst(server)
    headers = {"Authorization": f"Bearer {API_KEY}"}
    async with httpx2.AsyncClient(headers=headers, timeout=10) as http:
        transport = streamable_http_client(f"{server.url}/mcp/", http_client=http)
        async with Client(transport) as client:
            result = await client.call_tool("get_user_context", {"user_id": "nobody"})
    assert result.is_error
    [content] = result.content
    assert isinstance(content, TextContent)
    assert "read limit" in content.text


def test_one_project_over_its_limit_does_not_slow_another(server: LiveServer) -> None:
    use_up_the_burst(server)
    demo_key = stored_project(server.db_path, "demo").api_key
    assert read(server, key=demo_key) == 404  # the demo project's bucket is its own


def test_a_wrong_key_is_401_not_429(server: LiveServer) -> None:
    use_up_the_burst(server)
    assert read(server, key="utk_wrong") == 401


def test_capture_is_never_rate_limited(server: LiveServer) -> None:
    use_up_the_burst(server)
    for i in range(20):
        event = {"event": "e", "distinct_id": f"d{i}", "properties": {"token": TOKEN}}
        assert httpx.post(f"{server.url}/e/", json=event).status_code == 200


def test_reads_are_served_again_after_retry_after(server: LiveServer) -> None:
    wait = int(use_up_the_burst(server).headers["retry-after"])
    time.sleep(wait)
    assert read(server) == 404
