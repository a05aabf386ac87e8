"""The demo tenant on a real server: its own project and config, its public context endpoint
that can only read the demo project, and its webhook inbox (the power_user trigger's target)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from posthog import Posthog
from standardwebhooks.webhooks import Webhook

from tests.live import API_KEY, TOKEN, LiveServer, wait_for
from tests.projects import project_ids, stored_project
from usertrail.model.project import Project

BILLING = "/demo/settings/billing"
SIGNING_SECRET = "whsec_" + base64.b64encode(b"acme-demo-signing-secret-0123456").decode()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer(data_dir=tmp_path_factory.mktemp("demo") / "data").start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def demo(server: LiveServer) -> Project:
    return stored_project(server.db_path, "demo")


def visit(server: LiveServer, token: str, distinct_id: str, path: str, times: int = 1) -> None:
    client = Posthog(token, host=server.url, sync_mode=True)
    for _ in range(times):
        client.capture(
            "$pageview",
            distinct_id=distinct_id,
            properties={"$current_url": f"{server.url}{path}", "$session_id": "s1"},
        )


def use_feature(server: LiveServer, token: str, distinct_id: str, times: int) -> None:
    client = Posthog(token, host=server.url, sync_mode=True)
    for _ in range(times):
        client.capture("feature_used", distinct_id=distinct_id, properties={"$session_id": "s1"})


def demo_context(server: LiveServer, distinct_id: str) -> httpx.Response:
    return httpx.get(f"{server.url}/demo/api/context/{distinct_id}")


def context(server: LiveServer, distinct_id: str, key: str) -> dict[str, Any] | None:
    response = httpx.get(
        f"{server.url}/context/user/{distinct_id}", headers={"Authorization": f"Bearer {key}"}
    )
    return dict(response.json()) if response.status_code == 200 else None


def test_the_demo_is_its_own_project_with_its_own_token(server: LiveServer, demo: Project) -> None:
    assert project_ids(server.db_path) == {"default", "demo"}
    page = httpx.get(f"{server.url}{BILLING}")
    assert page.status_code == 200
    assert demo.token in page.text
    assert TOKEN not in page.text
    assert API_KEY not in page.text


def test_demo_pages_are_named_by_the_acme_file(server: LiveServer, demo: Project) -> None:
    visit(server, demo.token, "visitor-1", BILLING, times=3)

    def all_three() -> dict[str, Any] | None:  # acknowledged is not yet processed
        ctx = context(server, "visitor-1", demo.api_key)
        return ctx if ctx and len(ctx["recent_events"]) == 3 else None

    ctx = wait_for(all_three, what="the three visits in the demo context")
    assert {e["page"] for e in ctx["recent_events"]} == {"Billing"}
    [pattern] = [p for p in ctx["patterns"] if p["id"] == "plan_selection_abandonment"]
    assert pattern["evidence"]["funnel"] == "plan_selection"
    assert pattern["evidence"]["starts"] == 3


def test_the_default_project_keeps_its_own_config(server: LiveServer, demo: Project) -> None:
    use_feature(server, demo.token, "visitor-2", 1)
    use_feature(server, TOKEN, "visitor-2", 1)
    demo_ctx = wait_for(lambda: context(server, "visitor-2", demo.api_key), what="demo")
    default_ctx = wait_for(lambda: context(server, "visitor-2", API_KEY), what="default")
    assert demo_ctx["recent_events"][0]["label"] == "Used feature AI summaries (1st time)"
    assert default_ctx["recent_events"][0]["label"] != demo_ctx["recent_events"][0]["label"]


def test_demo_context_endpoint_reads_only_the_demo_project(
    server: LiveServer, demo: Project
) -> None:
    visit(server, TOKEN, "real-user", "/dashboard")
    visit(server, demo.token, "demo-user", "/demo/dashboard")
    wait_for(lambda: context(server, "real-user", API_KEY), what="real user")
    body = wait_for(lambda: demo_context(server, "demo-user").json(), what="demo user")
    assert body["user"]["id"] == "demo-user"
    assert body["prompt"].startswith("## What this user has been doing")
    assert demo_context(server, "real-user").status_code == 404


def visitor(server: LiveServer) -> httpx.Client:
    """A browser on the demo: the page gives it its visitor cookie."""
    browser = httpx.Client(base_url=server.url)
    browser.get("/demo")
    assert browser.cookies.get("acme_demo_visitor")
    return browser


def inbox(browser: httpx.Client) -> list[dict[str, Any]]:
    received: list[dict[str, Any]] = browser.get("/demo/api/webhooks").json()["received"]
    return received


def test_power_user_webhook_reaches_the_demo_inbox_and_email_is_dead_without_smtp(
    server: LiveServer, demo: Project
) -> None:
    with closing(visitor(server)) as pats, closing(visitor(server)) as someone_else:
        pats.get("/demo/api/context/user_pat")  # the page follows its person (404 until events)
        client = Posthog(demo.token, host=server.url, sync_mode=True)
        client.set(distinct_id="user_pat", properties={"email": "pat@example.com"})
        use_feature(server, demo.token, "user_pat", 5)

        [hook] = wait_for(lambda: inbox(pats), what="webhook in the inbox")
        assert (hook["body"]["person"]["id"], hook["body"]["trigger"]) == ("user_pat", "power_user")
        assert hook["signature"] == "unsigned"
        assert inbox(someone_else) == []  # each visitor has its own inbox
    assert httpx.get(f"{server.url}/demo/api/webhooks").json()["received"] == []

    def settled() -> list[dict[str, Any]] | None:
        response = httpx.get(
            f"{server.url}/actions/user/user_pat",
            headers={"Authorization": f"Bearer {demo.api_key}"},
        )
        [firing] = response.json()["firings"]
        deliveries: list[dict[str, Any]] = firing["deliveries"]
        return None if any(d["status"] == "pending" for d in deliveries) else deliveries

    email, webhook = wait_for(settled, what="deliveries settled")
    assert (webhook["kind"], webhook["status"]) == ("webhook", "delivered")
    assert (email["kind"], email["status"], email["attempts"]) == ("email", "dead", 1)
    assert email["last_error"] == "SMTP is not configured (USERTRAIL_SMTP_HOST)"


def test_no_demo_serves_no_demo_pages_and_makes_no_demo_project(tmp_path: Path) -> None:
    live = LiveServer(data_dir=tmp_path / "data", env={"USERTRAIL_DEMO": "0"}).start()
    try:
        assert httpx.get(f"{live.url}/demo").status_code == 404
        assert httpx.get(f"{live.url}/demo/api/context/anyone").status_code == 404
        assert project_ids(live.db_path) == {"default"}
    finally:
        live.stop()


def test_inbox_verifies_signatures_when_the_secret_is_set(tmp_path: Path) -> None:
    live = LiveServer(data_dir=tmp_path / "data", env={"ACME_WEBHOOK_SECRET": SIGNING_SECRET})
    live.start()
    try:
        with closing(visitor(live)) as browser:
            browser.get("/demo/api/context/u1")
            body = orjson.dumps({"trigger": "power_user", "person": {"id": "u1"}, "count": 5})
            target = f"{live.url}/demo/webhook-inbox"
            unsigned = httpx.post(target, content=body, headers={"webhook-id": "k1"})
            assert unsigned.status_code == 401
            now = datetime.now(UTC)
            headers = {
                "webhook-id": "k1",
                "webhook-timestamp": str(int(now.timestamp())),
                "webhook-signature": Webhook(SIGNING_SECRET).sign("k1", now, body.decode()),
            }
            assert httpx.post(target, content=body, headers=headers).status_code == 204
            [hook] = inbox(browser)
            assert (hook["id"], hook["signature"]) == ("k1", "verified")
    finally:
        live.stop()


def test_unknown_demo_api_paths_are_404_not_the_app(server: LiveServer) -> None:
    assert httpx.get(f"{server.url}/demo/api/nothing").status_code == 404
    assert httpx.get(f"{server.url}/demo/reports").status_code == 200


def test_demo_stream_waits_for_a_new_visitor_then_sends_their_context(
    server: LiveServer, demo: Project
) -> None:
    with httpx.stream("GET", f"{server.url}/demo/api/context/newcomer/stream") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.iter_lines()
        assert next(lines) == "event: waiting"
        visit(server, demo.token, "newcomer", "/demo/reports")
        event = next(line for line in lines if line.startswith("event:"))
        data = orjson.loads(next(lines).removeprefix("data: "))
    assert event == "event: context"
    assert data["user"]["id"] == "newcomer"
    assert [e["page"] for e in data["recent_events"]] == ["Reports"]


def test_a_webhook_that_is_not_json_is_a_400_problem(server: LiveServer) -> None:
    answer = httpx.post(f"{server.url}/demo/webhook-inbox", content=b"not json")
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "bad_payload"
