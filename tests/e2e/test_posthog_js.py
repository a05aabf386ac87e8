"""The unmodified posthog-js SDK, in a real Chromium, pointed at a real usertrail server."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page, Request, Response

from tests.e2e.browser import page_url
from tests.live import API_KEY, TOKEN, LiveServer, wait_for
from tests.rawlog import raw_rows

pytestmark = pytest.mark.browser


@dataclass
class App:
    page: Page
    requests: list[Request] = field(default_factory=list)
    responses: list[Response] = field(default_factory=list)

    def captures(self) -> list[Response]:
        return [r for r in self.responses if r.request.method == "POST" and is_capture(r.url)]


def is_capture(url: str) -> bool:
    return urlsplit(url).path.endswith("/e/")


@contextmanager
def open_app(
    browser: Browser, origin: str, server: LiveServer, page: str = "app.html", **options: str
) -> Iterator[App]:
    """The test page with posthog-js initialised against `server`; it records what it sent."""
    context = browser.new_context()
    try:
        app = App(context.new_page())
        app.page.on("request", lambda r: app.requests.append(r))
        app.page.on("response", lambda r: _keep_if_to(server, r, app.responses))
        app.page.goto(page_url(origin, server.url, page, **options))
        app.page.wait_for_function("window.__posthogLoaded === true", timeout=15_000)
        yield app
    finally:
        context.close()


def _keep_if_to(server: LiveServer, response: Response, into: list[Response]) -> None:
    if response.url.startswith(server.url):
        into.append(response)


def events_named(server: LiveServer, name: str) -> list[dict[str, Any]]:
    return raw_rows(server.db_path, "event = ?", (name,))


def test_click_arrives_as_autocapture_with_elements_chain(
    browser: Browser, page_origin: str, live_server: LiveServer
) -> None:
    with open_app(browser, page_origin, live_server) as app:
        app.page.click("text=Upgrade to Pro")
        [row] = wait_for(lambda: events_named(live_server, "$autocapture"), what="$autocapture")
    chain = row["body"]["properties"]["$elements_chain"]
    assert 'text="Upgrade to Pro"' in chain
    assert 'attr__data-ph-component="plan-picker"' in chain
    assert "div.hover:bg-blue-500.md:flex.plan-card" in chain


def test_pageview_and_identify_reach_the_raw_log(
    browser: Browser, page_origin: str, live_server: LiveServer
) -> None:
    with open_app(browser, page_origin, live_server) as app:
        [view] = wait_for(lambda: events_named(live_server, "$pageview"), what="$pageview")
        app.page.evaluate("posthog.identify('user_42')")
        [identify] = wait_for(lambda: events_named(live_server, "$identify"), what="$identify")
    assert identify["distinct_id"] == "user_42"
    assert identify["body"]["properties"]["$anon_distinct_id"] == view["distinct_id"]


def test_sdk_requests_are_gzipped_and_acknowledged_as_posthog_does(
    browser: Browser, page_origin: str, live_server: LiveServer
) -> None:
    with open_app(browser, page_origin, live_server) as app:
        app.page.click("text=Upgrade to Pro")
        wait_for(lambda: events_named(live_server, "$autocapture"), what="$autocapture")
        captures = app.captures()
        assert captures, "posthog-js sent no capture request"
        assert [(r.status, r.json()) for r in captures] == [(200, {"status": 1})] * len(captures)
        # posthog-js 1.449 gzips into a text/plain body and, for gzip-js, no longer says so in
        # the URL (older versions sent `?compression=gzip-js`): the magic number is the hint.
        assert all((r.request.post_data_buffer or b"").startswith(b"\x1f\x8b") for r in captures)
        assert {r.request.headers["content-type"] for r in captures} == {"text/plain"}


@pytest.mark.parametrize("disable_compression", ["0", "1"], ids=["gzip", "base64-form"])
def test_beacon_events_reach_the_raw_log(
    browser: Browser, page_origin: str, live_server: LiveServer, disable_compression: str
) -> None:
    """`sendBeacon` (what posthog-js uses on page unload) sends gzip, or a base64 `data=` form."""
    with open_app(
        browser, page_origin, live_server, disable_compression=disable_compression
    ) as app:
        app.page.evaluate(
            "posthog.capture('plan_compared', {price: '9 €'}, {transport: 'sendBeacon'})"
        )
        [row] = wait_for(lambda: events_named(live_server, "plan_compared"), what="beacon")
    assert row["body"]["properties"]["price"] == "9 €"


def test_snippet_build_fetches_only_config_and_capture_from_usertrail(
    browser: Browser, page_origin: str, live_server: LiveServer
) -> None:
    with open_app(browser, page_origin, live_server) as app:
        app.page.click("text=Upgrade to Pro")
        wait_for(lambda: events_named(live_server, "$autocapture"), what="$autocapture")
        paths = {urlsplit(r.url).path for r in app.requests if r.url.startswith(live_server.url)}
    config = f"/array/{TOKEN}/config.js"
    assert paths <= {config, "/flags/", "/e/", "/i/v0/e/"}, paths
    assert config in paths


def test_npm_module_build_loads_its_extensions_from_usertrail(
    browser: Browser, page_origin: str, live_server: LiveServer
) -> None:
    with open_app(browser, page_origin, live_server, page="module.html") as app:
        app.page.click("text=Upgrade to Pro")
        wait_for(lambda: events_named(live_server, "$autocapture"), what="$autocapture")
        extensions = [r for r in app.responses if "/static/" in r.url]
        assert extensions, "posthog-js loaded no extension"
        assert {r.status for r in extensions} == {200}


def test_context_has_pre_login_clicks_after_identify(
    browser: Browser, page_origin: str, live_server: LiveServer
) -> None:
    with open_app(browser, page_origin, live_server) as app:
        app.page.click("text=Upgrade to Pro")
        wait_for(lambda: events_named(live_server, "$autocapture"), what="$autocapture")
        app.page.evaluate("posthog.identify('user_42')")

        def labels() -> list[str]:
            response = httpx.get(
                f"{live_server.url}/context/user/user_42",
                headers={"Authorization": f"Bearer {API_KEY}"},
            )
            if response.status_code != 200:
                return []
            return [e["label"] for e in response.json()["recent_events"]]

        found = wait_for(lambda: [x for x in labels() if x.startswith("Clicked")], what="context")
    # /app.html; the component and page are named by the page's markup and URL: quoted as data.
    assert found == ["Clicked 'Upgrade to Pro' button in 'Plan picker' on 'App'"]


def test_posthog_js_groups_give_the_user_an_account_with_its_properties(
    browser: Browser, page_origin: str, live_server: LiveServer
) -> None:
    with open_app(browser, page_origin, live_server) as app:
        app.page.evaluate("posthog.identify('user_88')")
        app.page.evaluate("posthog.group('company', 'acme-js', {plan: 'pro', seats: 12})")
        app.page.evaluate("posthog.capture('report_opened')")

        def accounts() -> list[dict[str, Any]]:
            response = httpx.get(
                f"{live_server.url}/context/user/user_88",
                headers={"Authorization": f"Bearer {API_KEY}"},
            )
            body = response.json() if response.status_code == 200 else {}
            found: list[dict[str, Any]] = body.get("accounts", [])
            return found if found and found[0]["properties"] else []

        [account] = wait_for(accounts, what="the account in user_88's context")
    assert (account["type"], account["key"]) == ("company", "acme-js")
    assert account["properties"] == {"plan": "pro", "seats": 12}
    [groupidentify] = events_named(live_server, "$groupidentify")
    assert groupidentify["distinct_id"] == "user_88"  # posthog-js sends it as the person
