"""MCP tools, tested with the official SDK's own client over streamable HTTP and stdio."""

from __future__ import annotations

import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.types import TextContent, TextResourceContents
from posthog import Posthog

from tests.live import API_KEY, TOKEN, LiveServer


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer(data_dir=tmp_path_factory.mktemp("mcp") / "data").start()
    client = Posthog(TOKEN, host=live.url, sync_mode=True)
    client.capture(
        "$pageview",
        distinct_id="user_42",
        properties={"$current_url": "https://app.acme.test/settings/billing"},
    )
    deadline = time.monotonic() + 5
    while (
        httpx.get(
            f"{live.url}/context/user/user_42", headers={"Authorization": f"Bearer {API_KEY}"}
        ).status_code
        != 200
    ):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    yield live
    live.stop()


@asynccontextmanager
async def http_client(server: LiveServer, key: str) -> AsyncIterator[Client]:
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx2.AsyncClient(headers=headers, timeout=10) as http:
        transport = streamable_http_client(f"{server.url}/mcp/", http_client=http)
        async with Client(transport) as client:
            yield client


def payload(result: Any) -> Any:
    """A tool's structured result (lists come wrapped as {"result": [...]})."""
    data = result.structured_content
    return data["result"] if set(data) == {"result"} else data


async def test_get_user_context_tool_returns_the_context_object(server: LiveServer) -> None:
    async with http_client(server, API_KEY) as client:
        result = await client.call_tool("get_user_context", {"user_id": "user_42"})
    assert not result.is_error
    context = payload(result)
    assert context["recent_events"][-1]["label"] == "Viewed Billing"
    assert context["prompt"].startswith("## What this user has been doing")


async def test_list_active_users_names_recent_users(server: LiveServer) -> None:
    async with http_client(server, API_KEY) as client:
        result = await client.call_tool("list_active_users", {"minutes": 60})
    assert [u["user_id"] for u in payload(result)] == ["user_42"]


async def test_context_resource_is_the_prompt_block(server: LiveServer) -> None:
    async with http_client(server, API_KEY) as client:
        result = await client.read_resource("context://user/user_42")
    [content] = result.contents
    assert isinstance(content, TextResourceContents)
    assert "Viewed Billing" in content.text


def test_a_wrong_key_is_401_before_any_mcp_exchange(server: LiveServer) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    headers = {"Authorization": "Bearer utk_wrong", "Accept": "application/json"}
    response = httpx.post(f"{server.url}/mcp/", json=body, headers=headers)
    assert response.status_code == 401
    assert "wrong API key" in response.json()["detail"]
    assert "get_user_context" not in response.text


async def test_a_nul_in_a_user_id_is_a_tool_error_naming_the_rule(server: LiveServer) -> None:
    async with http_client(server, API_KEY) as client:
        result = await client.call_tool("get_user_context", {"user_id": "user\x0042"})
    assert result.is_error
    [content] = result.content
    assert isinstance(content, TextContent)
    assert "an id is 1 to 200 characters" in content.text


async def test_stdio_server_answers_with_the_project_of_its_key(server: LiveServer) -> None:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "usertrail", "mcp", "--data-dir", str(server.data_dir)],
        env={"USERTRAIL_API_KEY": API_KEY},
    )
    async with Client(params) as client:
        tools = {t.name for t in (await client.list_tools()).tools}
        result = await client.call_tool("get_user_context", {"user_id": "user_42", "n": 1})
    assert {"get_user_context", "list_active_users"} <= tools
    assert payload(result)["recent_events"][0]["label"] == "Viewed Billing"
