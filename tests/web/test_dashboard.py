"""The dashboard's pages and data (/ui, /ui/api/...) on a real server fed by posthog-python."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from posthog import Posthog

from tests.live import API_KEY, TOKEN, LiveServer, wait_for
from tests.projects import stored_project

BILLING = "https://app.acme.test/settings/billing"
UPGRADE = (
    'button.btn:text="Upgrade to Pro"attr__data-attr="upgrade";'
    'div.plan-card:attr__data-ph-component="plan-picker";main'
)


def feed(client: Posthog) -> None:
    session = {"$session_id": "s1", "$current_url": BILLING}
    client.capture("$pageview", distinct_id="anon-9", properties=session)
    client.capture(
        "$autocapture",
        distinct_id="anon-9",
        properties={**session, "$event_type": "click", "$elements_chain": UPGRADE},
    )
    client.capture(
        "$identify",
        distinct_id="user_42",
        properties={**session, "$anon_distinct_id": "anon-9", "$set": {"plan": "free"}},
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer(data_dir=tmp_path_factory.mktemp("ui") / "data").start()
    feed(Posthog(TOKEN, host=live.url, sync_mode=True))
    yield live
    live.stop()


def api(server: LiveServer, path: str, key: str | None = API_KEY, **kw: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.get(f"{server.url}/ui/api/{path}", headers=headers, **kw)


def person(server: LiveServer) -> dict[str, Any]:
    def loaded() -> dict[str, Any] | None:
        response = api(server, "person/user_42")
        if response.status_code != 200:
            return None
        body: dict[str, Any] = response.json()
        return body if body["context"]["user"]["id"] == "user_42" else None

    return wait_for(loaded, what="user_42 merged")


def login(server: LiveServer, key: str) -> httpx.Response:
    return httpx.post(f"{server.url}/ui/login", data={"api_key": key})


def test_dashboard_data_needs_a_valid_key(server: LiveServer) -> None:
    assert api(server, "active", key=None).status_code == 401
    assert api(server, "active", key="utk_wrong").status_code == 401
    assert api(server, "active", key=TOKEN).status_code == 401  # the public token cannot read
    wrong_cookie = httpx.get(f"{server.url}/ui/api/active", cookies={"usertrail_key": "utk_x"})
    assert wrong_cookie.status_code == 401


def test_ui_without_a_key_shows_the_login_form(server: LiveServer) -> None:
    response = httpx.get(f"{server.url}/ui")
    assert response.status_code == 200
    assert 'action="/ui/login"' in response.text
    assert "Active now" not in response.text


def test_login_with_a_wrong_key_is_401_with_the_form(server: LiveServer) -> None:
    response = login(server, "utk_wrong")
    assert response.status_code == 401
    assert "That API key is not valid." in response.text
    assert "set-cookie" not in response.headers


def test_login_sets_an_httponly_strict_cookie_that_reads_the_keys_project(
    server: LiveServer,
) -> None:
    response = login(server, API_KEY)
    assert response.status_code == 303
    assert response.headers["location"] == "/ui"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "path=/ui" in cookie
    with httpx.Client(base_url=server.url, cookies=response.cookies) as browser:
        assert "Active now" in browser.get("/ui").text
        active = wait_for(lambda: browser.get("/ui/api/active").json()["persons"], what="active")
    assert "user_42" in [p["id"] for p in active]
    assert active[0]["last_label"]


def test_logout_clears_the_cookie(server: LiveServer) -> None:
    response = httpx.post(f"{server.url}/ui/logout")
    assert response.status_code == 303
    assert 'usertrail_key=""' in response.headers["set-cookie"]


def test_person_has_sessions_of_labelled_events_newest_first(server: LiveServer) -> None:
    [session] = person(server)["sessions"]
    assert session["id"] == "s1"
    assert session["pages"] == ["Billing"]
    click = next(e for e in session["events"] if e["kind"] == "click")
    assert click["label"] == "Clicked 'Upgrade to Pro' button in Plan picker on Billing"
    assert (click["page"], click["component"], click["element"]) == (
        "Billing",
        "Plan picker",
        "button 'Upgrade to Pro'",
    )
    times = [e["ts"] for e in session["events"]]
    assert times == sorted(times, reverse=True)


def test_person_carries_context_and_actions(server: LiveServer) -> None:
    body = person(server)
    assert set(body["context"]["user"]["distinct_ids"]) == {"anon-9", "user_42"}
    assert body["context"]["prompt"].startswith("## What this user has been doing")
    assert body["actions"]["firings"] == []


def test_raw_event_behind_a_label_is_the_event_as_received(server: LiveServer) -> None:
    [session] = person(server)["sessions"]
    click = next(e for e in session["events"] if e["kind"] == "click")
    raw = api(server, f"event/{click['uuid']}").json()
    assert raw["event"] == "$autocapture"
    assert raw["distinct_id"] == "anon-9"
    assert raw["body"]["properties"]["$elements_chain"] == UPGRADE


def test_another_projects_key_sees_nothing_of_this_project(server: LiveServer) -> None:
    other = stored_project(server.db_path, "demo").api_key
    [session] = person(server)["sessions"]
    assert api(server, "person/user_42", key=other).status_code == 404
    assert api(server, f"event/{session['events'][0]['uuid']}", key=other).status_code == 404
    assert api(server, "active", key=other).json()["persons"] == []


def test_stream_sends_a_change_notice_when_events_are_processed(server: LiveServer) -> None:
    client = Posthog(TOKEN, host=server.url, sync_mode=True)
    with httpx.stream(
        "GET", f"{server.url}/ui/api/stream", headers={"Authorization": f"Bearer {API_KEY}"}
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.iter_lines()
        assert next(lines) == ": keep-alive"  # subscribed: nothing processed from now is missed
        client.capture("report_viewed", distinct_id="user_7")
        event = next(line for line in lines if line.startswith("event:"))
        data = next(lines)
    assert event == "event: changed"
    assert data == 'data: ["user_7"]'


def test_another_projects_dashboard_says_where_the_demo_visitors_are(server: LiveServer) -> None:
    demo = stored_project(server.db_path, "demo")
    with httpx.Client(base_url=server.url, cookies=login(server, API_KEY).cookies) as browser:
        page = browser.get("/ui").text
    assert 'id="demo-hint"' in page
    assert demo.api_key in page
    assert "Show the demo's visitors" in page


def test_the_demo_projects_dashboard_names_its_automations_in_the_files_words(
    server: LiveServer,
) -> None:
    demo = stored_project(server.db_path, "demo")
    with httpx.Client(base_url=server.url, cookies=login(server, demo.api_key).cookies) as browser:
        page = browser.get("/ui").text
    assert 'id="demo-hint"' not in page
    assert "Used a feature 5 times, so welcomed as a power user" in page  # its description
