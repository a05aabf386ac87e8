"""MCP tools, tested with the official SDK's own client over streamable HTTP and stdio."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client, MCPError, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.types import TextContent, TextResourceContents
from posthog import Posthog

import usertrail
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


def text_of(result: Any) -> str:
    assert not result.is_error
    [content] = result.content
    assert isinstance(content, TextContent)
    return content.text


async def test_get_user_context_answers_the_markdown_block_by_default(server: LiveServer) -> None:
    async with http_client(server, API_KEY) as client:
        block = text_of(await client.call_tool("get_user_context", {"user_id": "user_42"}))
    assert block.startswith("## What this user has been doing")
    assert "Viewed 'Billing'" in block


async def test_get_user_context_answers_json_when_asked(server: LiveServer) -> None:
    arguments = {"user_id": "user_42", "format": "json"}
    async with http_client(server, API_KEY) as client:
        context = json.loads(text_of(await client.call_tool("get_user_context", arguments)))
    assert context["recent_events"][-1]["label"] == "Viewed 'Billing'"
    assert "prompt" not in context


async def test_get_user_context_fills_the_block_to_its_budget(server: LiveServer) -> None:
    arguments = {"user_id": "user_42", "max_tokens": 64}
    async with http_client(server, API_KEY) as client:
        result = await client.call_tool("get_user_context", arguments)
    assert result.is_error  # the header alone is larger: a clear error, never an empty block
    [content] = result.content
    assert isinstance(content, TextContent)
    assert "max_tokens=64" in content.text


async def test_the_server_states_its_name_and_version(server: LiveServer) -> None:
    async with http_client(server, API_KEY) as client:
        info = client.server_info
    assert info is not None
    assert (info.name, info.version) == ("usertrail", usertrail.__version__)


async def test_list_active_users_names_recent_users(server: LiveServer) -> None:
    async with http_client(server, API_KEY) as client:
        result = await client.call_tool("list_active_users", {"minutes": 60})
    assert [u["user_id"] for u in payload(result)] == ["user_42"]


async def test_context_resource_is_the_prompt_block(server: LiveServer) -> None:
    async with http_client(server, API_KEY) as client:
        result = await client.read_resource("context://user/user_42")
    [content] = result.contents
    assert isinstance(content, TextResourceContents)
    assert "Viewed 'Billing'" in content.text


@pytest.mark.parametrize("key", ["utk_wrong", TOKEN])  # the public token cannot read either
async def test_a_wrong_key_is_refused_at_connect(server: LiveServer, key: str) -> None:
    with pytest.raises(BaseException) as raised:  # noqa: PT011 - the client groups its errors
        async with http_client(server, key):
            pass
    assert any("wrong API key" in str(e) for e in leaves(raised.value) if isinstance(e, MCPError))


def leaves(exc: BaseException) -> Iterator[BaseException]:
    """The exceptions inside the client's (nested) exception groups, and their causes."""
    yield exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            yield from leaves(inner)
    if exc.__context__ is not None:
        yield from leaves(exc.__context__)


def test_a_wrong_key_is_a_401_before_any_mcp_message(server: LiveServer) -> None:
    response = httpx.post(f"{server.url}/mcp/", json={}, headers={"Authorization": "Bearer x"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert "Billing" not in response.text


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
    assert text_of(result).endswith("Viewed 'Billing'\n")
