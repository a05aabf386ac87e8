"""The chat completions client against a real OpenAI-compatible server on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.retrieval.fake_llm import FakeLlm
from usertrail.retrieval.llm import ChatClient, LlmConfig, LlmError, chat_client

MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]


@pytest.fixture
def llm() -> Iterator[FakeLlm]:
    fake = FakeLlm().start()
    yield fake
    fake.stop()


async def test_a_completion_sends_model_messages_and_key(llm: FakeLlm) -> None:
    client = ChatClient(LlmConfig(base_url=llm.base_url + "/", model="tiny", api_key="sk-1"))
    try:
        assert await client.complete(MESSAGES) == llm.reply
    finally:
        await client.aclose()
    [request] = llm.requests
    assert request["auth"] == "Bearer sk-1"
    assert request["body"]["model"] == "tiny"
    assert request["body"]["messages"] == MESSAGES


async def test_a_failing_endpoint_is_an_llm_error_with_its_status(llm: FakeLlm) -> None:
    llm.status = 503
    client = ChatClient(LlmConfig(base_url=llm.base_url))
    try:
        with pytest.raises(LlmError, match="503"):
            await client.complete(MESSAGES)
    finally:
        await client.aclose()
    assert llm.requests[0]["auth"] is None


async def test_an_unreachable_endpoint_is_an_llm_error() -> None:
    client = ChatClient(LlmConfig(base_url="http://127.0.0.1:9/v1", timeout_s=2))
    try:
        with pytest.raises(LlmError, match="ConnectError"):
            await client.complete(MESSAGES)
    finally:
        await client.aclose()


def test_without_a_base_url_there_is_no_client() -> None:
    assert chat_client(LlmConfig()) is None
