"""The unmodified posthog-js SDK, in a real Chromium, pointed at a real usertrail server."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from tests.live import API_KEY, TOKEN, LiveServer
from tests.rawlog import raw_rows

pytestmark = pytest.mark.browser


def wait_for(check: Callable[[], Any], timeout: float = 15, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def open_app(browser: Any, page_origin: str, server: LiveServer) -> tuple[Any, Any, list[Any]]:
    context = browser.new_context()
    page = context.new_page()
    responses: list[Any] = []
    page.on("response", lambda r: responses.append(r) if r.url.startswith(server.url) else None)
    query = urlencode({"token": TOKEN, "api_host": server.url})
    page.goto(f"{page_origin}/app.html?{query}")
    page.wait_for_function("window.__posthogLoaded === true", timeout=15_000)
    return context, page, responses


def events_named(server: LiveServer, name: str) -> list[dict[str, Any]]:
    return raw_rows(server.db_path, "event = ?", (name,))


def test_click_arrives_as_autocapture_with_elements_chain(
    browser: Any, page_origin: str, usertrail: LiveServer
) -> None:
    context, page, _ = open_app(browser, page_origin, usertrail)
    page.click("text=Upgrade to Pro")
    [row] = wait_for(lambda: events_named(usertrail, "$autocapture"), what="$autocapture")
    chain = row["body"]["properties"]["$elements_chain"]
    assert 'text="Upgrade to Pro"' in chain
    assert 'attr__data-ph-component="plan-picker"' in chain
    context.close()


def test_pageview_and_identify_reach_the_raw_log(
    browser: Any, page_origin: str, usertrail: LiveServer
) -> None:
    context, page, _ = open_app(browser, page_origin, usertrail)
    [view] = wait_for(lambda: events_named(usertrail, "$pageview"), what="$pageview")
    page.evaluate("window.posthog.identify('user_42')")
    [identify] = wait_for(lambda: events_named(usertrail, "$identify"), what="$identify")
    assert identify["distinct_id"] == "user_42"
    assert identify["body"]["properties"]["$anon_distinct_id"] == view["distinct_id"]
    context.close()


def test_sdk_requests_are_gzipped_and_acknowledged_as_posthog_does(
    browser: Any, page_origin: str, usertrail: LiveServer
) -> None:
    context, page, responses = open_app(browser, page_origin, usertrail)
    page.click("text=Upgrade to Pro")
    wait_for(lambda: events_named(usertrail, "$autocapture"), what="$autocapture")
    captures = [r for r in responses if "/e/" in r.url and r.request.method == "POST"]
    assert captures, "posthog-js sent no capture request"
    assert all(r.status == 200 for r in captures)
    assert all(r.json() == {"status": 1} for r in captures)
    # Current posthog-js gzips into a text/plain body with no hint in the URL.
    assert all(r.request.post_data_buffer[:2] == b"\x1f\x8b" for r in captures)
    assert all(r.request.headers["content-type"] == "text/plain" for r in captures)
    context.close()


def test_context_has_pre_login_clicks_after_identify(
    browser: Any, page_origin: str, usertrail: LiveServer
) -> None:
    context, page, _ = open_app(browser, page_origin, usertrail)
    page.click("text=Upgrade to Pro")
    wait_for(lambda: events_named(usertrail, "$autocapture"), what="$autocapture")
    page.evaluate("window.posthog.identify('user_42')")

    def labels() -> list[str]:
        response = httpx.get(
            f"{usertrail.url}/context/user/user_42", headers={"Authorization": f"Bearer {API_KEY}"}
        )
        if response.status_code != 200:
            return []
        return [e["label"] for e in response.json()["recent_events"]]

    found = wait_for(lambda: [x for x in labels() if x.startswith("Clicked")], what="context")
    assert found == ["Clicked 'Upgrade to Pro' button in Plan picker on App"]  # /app.html
    context.close()
