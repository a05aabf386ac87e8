"""Accounts and PostHog's own events, sent by the real posthog-python to a real server:
`group_identify`, `set`, `set_once`, `capture(groups=...)`, flag exposures and LLM calls."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from posthog import Posthog

from tests.live import API_KEY, TOKEN, LiveServer, wait_for
from tests.projects import stored_project
from usertrail.core.context.budget import count_tokens

BILLING = "https://app.acme.test/settings/billing"
ACME = {"company": "acme"}
SLASHED = {"team": "eu/berlin"}  # PostHog group keys are free text
NOW = datetime.now(UTC).replace(microsecond=0)


def feed(client: Posthog) -> None:
    session = {"$session_id": "s9", "$current_url": BILLING}
    start, end = NOW - timedelta(seconds=16), NOW
    client.group_identify("company", "acme", {"plan": "enterprise", "seats": 40})
    client.capture(
        "$pageview", distinct_id="user_42", properties=session, groups=ACME, timestamp=start
    )
    client.capture(
        "$ai_generation",
        distinct_id="user_42",
        properties={**session, "$ai_model": "gpt-4o", "$ai_is_error": True, "$ai_error": "429"},
        groups=ACME,
        timestamp=start + timedelta(seconds=5),
    )
    client.capture(
        "$feature_flag_called",
        distinct_id="user_42",
        properties={**session, "$feature_flag": "new-billing", "$feature_flag_response": True},
        groups=ACME,
        timestamp=end,
    )
    client.capture("$pageview", distinct_id="user_7", properties=session, groups=ACME)
    client.capture("$pageview", distinct_id="user_9", properties=session, groups=SLASHED)
    client.set(distinct_id="user_42", properties={"role": "admin"})
    client.set_once(distinct_id="backend_only", properties={"source": "import"})
    client.flush()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer(data_dir=tmp_path_factory.mktemp("accounts") / "data").start()
    feed(Posthog(TOKEN, host=live.url, sync_mode=True))
    yield live
    live.stop()


def get(server: LiveServer, path: str, key: str | None = API_KEY, **params: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.get(f"{server.url}{path}", headers=headers, params=params)


def user_context(server: LiveServer) -> dict[str, Any]:
    def ready() -> dict[str, Any] | None:
        response = get(server, "/context/user/user_42")
        body: dict[str, Any] = response.json() if response.status_code == 200 else {}
        done = body and body["accounts"] and body["user"]["properties"].get("role")
        return body if done and len(body["recent_events"]) == 3 else None

    return wait_for(ready, what="user_42's context with the account")


def group_context(server: LiveServer, **params: Any) -> httpx.Response:
    user_context(server)
    wait_for(lambda: get(server, "/context/user/user_7").status_code == 200, what="user_7")
    return get(server, "/context/group/company/acme", **params)


def test_the_users_account_and_its_properties_are_in_the_context(server: LiveServer) -> None:
    context = user_context(server)
    [account] = context["accounts"]
    assert (account["type"], account["key"]) == ("company", "acme")
    assert account["properties"] == {"plan": "enterprise", "seats": 40}
    prompt = get(server, "/context/user/user_42", format="markdown").text
    assert "Account: `acme` (`company`) with plan: `enterprise`, seats: `40`." in prompt


def test_posthog_events_read_as_facts_and_updates_are_no_activity(server: LiveServer) -> None:
    context = user_context(server)
    labels = [e["label"] for e in context["recent_events"]]
    # The page is named from its URL, not the project file: quoted as data (core.context).
    assert labels == [
        "Viewed 'Billing'",
        "Hit an error: AI generation failed (gpt-4o): '429' on 'Billing'",
        "Exposed to feature flag 'new-billing' (on)",
    ]
    assert "Triggered" not in get(server, "/context/user/user_42", format="markdown").text
    assert context["last_session"]["errors"] == [labels[1]]


def test_no_id_that_is_not_a_person_is_listed_as_active(server: LiveServer) -> None:
    group_context(server)
    active = get(server, "/ui/api/active", minutes=60).json()["persons"]
    assert sorted(p["id"] for p in active) == ["user_42", "user_7", "user_9"]
    assert get(server, "/context/user/backend_only").status_code == 404


def test_the_dashboard_and_the_prompt_give_a_session_one_length(server: LiveServer) -> None:
    context = user_context(server)
    sessions = get(server, "/ui/api/person/user_42").json()["sessions"]
    [session] = [s for s in sessions if s["id"] == "s9"]
    # The server corrects each request's clock skew, which may move an event by a second.
    number, unit = session["duration"].split()
    assert unit == "seconds"
    assert int(number) in (15, 16)
    assert context["last_session_summary"].startswith(f"Session of {number} seconds")


def test_an_accounts_context_says_who_is_active_and_what_it_does(server: LiveServer) -> None:
    body = group_context(server).json()
    assert body["account"]["properties"] == {"plan": "enterprise", "seats": 40}
    assert (body["member_count"], body["active_members"]) == (2, 2)
    assert {m["id"] for m in body["members"]} == {"user_42", "user_7"}
    assert {"kind": "page", "name": "Billing"}.items() <= body["usage"][0].items()
    assert body["usage"][0]["count"] == 2
    assert [e["user"] for e in body["recent_events"]][-1] == "user_7"


def test_an_accounts_markdown_block_fits_the_budget_and_keeps_its_header(
    server: LiveServer,
) -> None:
    full = group_context(server, format="markdown").text
    assert full.startswith("## What this account has been doing")
    assert "### Recent activity (oldest first)" in full
    small = group_context(server, format="markdown", max_tokens=150).text
    assert count_tokens(small) <= 150 < count_tokens(full)
    assert "**Account** `acme` (`company`)" in small


def test_an_account_needs_the_projects_key(server: LiveServer) -> None:
    group_context(server)
    other = stored_project(server.db_path, "demo").api_key
    assert get(server, "/context/group/company/acme", key=None).status_code == 401
    assert get(server, "/context/group/company/acme", key=other).status_code == 404
    assert get(server, "/context/group/company/nobody").status_code == 404


def test_a_group_key_with_a_slash_is_found(server: LiveServer) -> None:
    def found() -> dict[str, Any] | None:
        response = get(server, "/context/group/team/eu/berlin")
        return dict(response.json()) if response.status_code == 200 else None

    body = wait_for(found, what="the team")
    assert (body["account"]["key"], body["member_count"]) == ("eu/berlin", 1)
