"""POST /retrieve, POST /assist and the MCP tool search_help on a real server, fed by the real
posthog-python SDK, with a real OpenAI-compatible server on loopback."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from posthog import Posthog

from tests.live import API_KEY, TOKEN, LiveServer
from tests.retrieval.fake_llm import FakeLlm
from usertrail.demo.project import DEMO_PROJECT_FILE

REPORT = "https://app.acme-reports.example/reports/42"
EXPORT = 'button:text="Export"attr__data-attr="export";main'
E42 = [{"type": "ExportError", "value": "E42 export timed out after 300 s"}]
EXPORT_ERRORS = "export-errors"
EVENTS = 5  # what feed() sends


def feed(client: Posthog) -> None:
    props = {"$session_id": "s1", "$current_url": REPORT}
    client.capture("$pageview", distinct_id="user_42", properties=props)
    for _ in range(2):
        click = {**props, "$event_type": "click", "$elements_chain": EXPORT}
        client.capture("$autocapture", distinct_id="user_42", properties=click)
        client.capture(
            "$exception", distinct_id="user_42", properties={**props, "$exception_list": E42}
        )


@pytest.fixture(scope="module")
def llm() -> Iterator[FakeLlm]:
    fake = FakeLlm().start()
    yield fake
    fake.stop()


def start(data_dir: Path, llm: FakeLlm | None) -> LiveServer:
    env = {"USERTRAIL_PROJECT_FILE": str(DEMO_PROJECT_FILE), "USERTRAIL_LLM_BASE_URL": ""}
    if llm is not None:
        env |= {
            "USERTRAIL_LLM_BASE_URL": llm.base_url,
            "USERTRAIL_LLM_MODEL": "tiny-test",
            "USERTRAIL_LLM_API_KEY": "sk-test",
        }
    live = LiveServer(data_dir=data_dir, env=env).start()
    feed(Posthog(TOKEN, host=live.url, sync_mode=True))
    deadline = time.monotonic() + 5
    while len(recent_events(live)) < EVENTS:  # the processor runs right after the ack
        assert time.monotonic() < deadline, "the events were not processed in time"
        time.sleep(0.05)
    return live


def recent_events(live: LiveServer) -> list[Any]:
    response = httpx.get(
        f"{live.url}/context/user/user_42", headers={"Authorization": f"Bearer {API_KEY}"}
    )
    return list(response.json()["recent_events"]) if response.status_code == 200 else []


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, llm: FakeLlm) -> Iterator[LiveServer]:
    live = start(tmp_path_factory.mktemp("help") / "data", llm)
    yield live
    live.stop()


def post(server: LiveServer, path: str, body: dict[str, Any], key: str = API_KEY) -> httpx.Response:
    return httpx.post(
        server.url + path, json=body, headers={"Authorization": f"Bearer {key}"}, timeout=10
    )


def test_retrieve_picks_the_article_about_the_error_the_user_just_hit(server: LiveServer) -> None:
    response = post(
        server, "/retrieve", {"user_id": "user_42", "query": "why did it fail?", "k": 3}
    )
    assert response.status_code == 200
    body = response.json()
    top = body["hits"][0]
    assert top["article"] == EXPORT_ERRORS
    assert top["score"] > 0
    assert "the user is on Report" in top["reasons"]
    assert any(
        "E42 export timed out" in r and "twice in the last session" in r for r in top["reasons"]
    )
    assert "e42" in body["expanded_with"]
    assert len(body["hits"]) == 3


def test_retrieve_needs_the_api_key(server: LiveServer) -> None:
    response = post(server, "/retrieve", {"user_id": "user_42", "query": "q"}, key="utk_wrong")
    assert response.status_code == 401
    assert (
        httpx.post(server.url + "/retrieve", json={"user_id": "u", "query": "q"}).status_code == 401
    )


def test_retrieve_for_an_unknown_user_is_404(server: LiveServer) -> None:
    response = post(server, "/retrieve", {"user_id": "nobody", "query": "why did it fail?"})
    assert response.status_code == 404
    assert "nobody" in response.json()["detail"]


def test_assist_sends_the_assembled_prompt_to_the_llm(server: LiveServer, llm: FakeLlm) -> None:
    llm.requests.clear()
    response = post(server, "/assist", {"user_id": "user_42", "message": "why did it fail?"})
    assert response.status_code == 200
    body = response.json()
    assert (body["answer"], body["answer_source"], body["model"]) == (llm.reply, "llm", "tiny-test")
    [request] = llm.requests
    assert request["auth"] == "Bearer sk-test"
    system, user = request["body"]["messages"]
    assert user == {"role": "user", "content": "why did it fail?"}
    assert "## What this user has been doing" in system["content"]
    assert f"(article `{EXPORT_ERRORS}`)" in system["content"]
    assert body["prompt"].startswith(system["content"])
    assert body["retrieval"]["hits"][0]["article"] == EXPORT_ERRORS


def test_assist_falls_back_to_the_template_when_the_llm_fails(
    server: LiveServer, llm: FakeLlm
) -> None:
    llm.status = 500
    try:
        body = post(server, "/assist", {"user_id": "user_42", "message": "why did it fail?"}).json()
    finally:
        llm.status = 200
    assert body["answer_source"] == "template"
    assert "500" in body["llm_error"]
    assert body["answer"].startswith("You hit the error 'ExportError: E42 export timed out")
    assert "“Export failed: timeouts and size limits" in body["answer"]


def test_assist_without_an_llm_answers_from_the_top_article(tmp_path: Path) -> None:
    offline = start(tmp_path / "data", llm=None)
    try:
        response = post(offline, "/assist", {"user_id": "user_42", "message": "why did it fail?"})
    finally:
        offline.stop()
    body = response.json()
    assert (body["answer_source"], body["model"], body["llm_error"]) == ("template", None, None)
    # The user hit E42: the answer points at that section, not the article's first one.
    assert "The section “E42 – export timed out” of “Export failed" in body["answer"]
    assert "## Help articles" in body["prompt"]


@asynccontextmanager
async def mcp_client(server: LiveServer) -> AsyncIterator[Client]:
    headers = {"Authorization": f"Bearer {API_KEY}"}
    async with httpx2.AsyncClient(headers=headers, timeout=10) as http:
        transport = streamable_http_client(f"{server.url}/mcp/", http_client=http)
        async with Client(transport) as client:
            yield client


async def test_the_search_help_tool_returns_ranked_help_with_reasons(server: LiveServer) -> None:
    async with mcp_client(server) as client:
        result = await client.call_tool(
            "search_help", {"user_id": "user_42", "query": "why did it fail?"}
        )
        unknown = await client.call_tool("search_help", {"user_id": "nobody", "query": "q"})
    hits = result.structured_content["hits"]
    assert hits[0]["article"] == EXPORT_ERRORS
    assert hits[0]["reasons"]
    assert unknown.is_error


def feed_simulated_failure(client: Posthog, url: str) -> None:
    """What the demo app sends for "Simulate Generation Failure" on its Billing page."""
    props = {"$session_id": "s2", "$current_url": f"{url}/demo/settings/billing"}
    button = 'button:text="Simulate Generation Failure"attr__id="simulate-failure";main'
    failed = {"input_prompt": "Summarize Q3 revenue", "failure_reason": "context_length_exceeded"}
    client.capture("$pageview", distinct_id="demo_user", properties=props)
    click = {**props, "$event_type": "click", "$elements_chain": button}
    client.capture("$autocapture", distinct_id="demo_user", properties=click)
    client.capture("generation_failed", distinct_id="demo_user", properties={**props, **failed})


def test_assist_offline_after_the_demos_simulated_failure_names_that_error_and_no_other(
    tmp_path: Path,
) -> None:
    offline = start(tmp_path / "data", llm=None)
    try:
        feed_simulated_failure(Posthog(TOKEN, host=offline.url, sync_mode=True), offline.url)
        deadline = time.monotonic() + 5
        body: dict[str, Any] = {}
        while "context_length_exceeded" not in body.get("answer", ""):
            assert time.monotonic() < deadline, f"no answer about the failure: {body}"
            message = {"user_id": "demo_user", "message": "why did it fail?"}
            body = post(offline, "/assist", message).json()
            time.sleep(0.05)
    finally:
        offline.stop()
    answer = body["answer"]
    assert answer.startswith(
        "You hit the error 'Generation failed' ('context_length_exceeded'). "
        "“Why AI generation failed” is about errors like this one, but none of its sections "
        "is about this one in particular."
    )
    assert "Monthly limit" not in answer
    assert "upgrade" not in answer.lower()
    assert "contact support" in answer
