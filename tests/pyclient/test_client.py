"""usertrail.client against a real server: typed answers, sync and async, typed errors."""

from __future__ import annotations

import httpx
import pytest
from posthog import Posthog

from tests.live import API_KEY, TOKEN, LiveServer, wait_for
from tests.reader_site import ODD_USER, USER
from usertrail.client import (
    AccountContext,
    AsyncUsertrail,
    InvalidRequest,
    NotFound,
    RateLimited,
    Unauthorized,
    Usertrail,
)
from usertrail.model.context import UserContext


def test_user_context_is_the_typed_context_object(server: LiveServer) -> None:
    with Usertrail(server.url, API_KEY) as client:
        context = client.user_context(USER, n=5)
    assert isinstance(context, UserContext)
    assert USER in context.user.distinct_ids
    assert [e.type for e in context.recent_events][-1] != ""
    assert any(e.page == "Report" for e in context.recent_events)


def test_user_prompt_is_the_markdown_block(server: LiveServer) -> None:
    with Usertrail(server.url, API_KEY) as client:
        prompt = client.user_prompt(USER, max_tokens=1500)
    direct = httpx.get(
        f"{server.url}/context/user/{USER}",
        params={"format": "markdown", "max_tokens": 1500},
        headers={"Authorization": f"Bearer {API_KEY}"},
    )
    assert prompt.startswith("## What this user has been doing")
    assert prompt == direct.text


def test_an_id_with_query_characters_reaches_its_user(server: LiveServer) -> None:
    with Usertrail(server.url, API_KEY) as client:
        assert ODD_USER in client.user_context(ODD_USER).user.distinct_ids


async def test_the_async_client_gives_the_same_answers(server: LiveServer) -> None:
    async with AsyncUsertrail(server.url, API_KEY) as client:
        context = await client.user_context(USER)
        found = await client.retrieve(USER, "how do I export a report?", k=3)
        assisted = await client.assist(USER, "how do I export a report?")
    with Usertrail(server.url, API_KEY) as blocking:
        assert context == blocking.user_context(USER)
    assert 1 <= len(found.hits) <= 3
    assert found.hits[0].article_title
    assert assisted.answer_source == "template"  # no LLM configured
    assert assisted.retrieval.hits


def test_retrieve_ranks_help_with_what_the_user_did(server: LiveServer) -> None:
    with Usertrail(server.url, API_KEY) as client:
        found = client.retrieve(USER, "why did it fail?", k=5)
    assert found.query == "why did it fail?"
    assert any(signal.kind == "page" for signal in found.signals)


def test_a_wrong_key_raises_unauthorized(server: LiveServer) -> None:
    with Usertrail(server.url, "utk_wrong") as client, pytest.raises(Unauthorized) as refused:
        client.user_context(USER)
    assert refused.value.status == 401
    assert refused.value.detail
    assert (refused.value.code, refused.value.title) == ("unauthorized", "Unauthorized")


def test_an_unknown_user_raises_not_found(server: LiveServer) -> None:
    with Usertrail(server.url, API_KEY) as client, pytest.raises(NotFound) as missing:
        client.user_context("nobody-at-all")
    assert missing.value.status == 404


def test_out_of_range_parameters_raise_invalid_request(server: LiveServer) -> None:
    with Usertrail(server.url, API_KEY) as client, pytest.raises(InvalidRequest) as refused:
        client.retrieve(USER, "export", k=0)
    assert (refused.value.status, refused.value.code) == (422, "invalid")
    assert [e["loc"] for e in refused.value.field_errors] == [["body", "k"]]
    assert refused.value.instance == "/retrieve"


def test_export_then_delete_a_person(server: LiveServer) -> None:
    with Usertrail(server.url, API_KEY) as client:
        client.user_context(ODD_USER)
        export = client.export_person(ODD_USER)
        assert [e["distinct_id"] for e in export["raw_events"]] == [ODD_USER]
        report = client.delete_person(ODD_USER)
        assert report.distinct_ids == (ODD_USER,)
        with pytest.raises(NotFound):
            client.user_context(ODD_USER)


def test_over_the_read_rate_raises_rate_limited_with_its_wait(tmp_path: object) -> None:
    from pathlib import Path

    env = {"USERTRAIL_DEMO": "0", "USERTRAIL_READ_RATE_PER_S": "0.01", "USERTRAIL_READ_BURST": "1"}
    live = LiveServer(data_dir=Path(str(tmp_path)) / "data", env=env).start()
    try:
        with Usertrail(live.url, API_KEY) as client:
            with pytest.raises(NotFound):
                client.user_context("anyone")  # the one read the burst allows
            with pytest.raises(RateLimited) as limited:
                client.user_context("anyone")
        assert limited.value.retry_after_s >= 1
    finally:
        live.stop()


def test_a_given_httpx_client_is_used(server: LiveServer) -> None:
    seen: list[str] = []
    hooks = {"request": [lambda request: seen.append(request.url.path)]}
    with httpx.Client(event_hooks=hooks) as http:
        Usertrail(server.url, API_KEY, http=http).user_context(USER)
    assert seen == [f"/context/user/{USER}"]


def test_group_context_is_the_accounts_context(server: LiveServer) -> None:
    Posthog(TOKEN, host=server.url, sync_mode=True).capture(
        "report_opened", distinct_id=USER, groups={"company": "acme/eu"}
    )
    with Usertrail(server.url, API_KEY) as client:
        group = wait_for(lambda: _found(client, "acme/eu"), what="the account")
        prompt = client.group_prompt("company", "acme/eu")
    assert (group.account.type, group.account.key) == ("company", "acme/eu")
    assert USER in {m.id for m in group.members}
    assert prompt.startswith("## ")


def _found(client: Usertrail, key: str) -> AccountContext | None:
    try:
        return client.group_context("company", key)
    except NotFound:
        return None
