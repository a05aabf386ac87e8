"""The whole loop in a real browser: the Acme demo with real posthog-js autocapture, then the
dashboard, both served by a real usertrail; the context API must agree with what they show.

`USERTRAIL_SCREENSHOTS=1` (`make screenshots`) also saves the README's docs/img/*.png.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize
from posthog import Posthog

from tests.e2e.browser import ROOT
from tests.live import API_KEY, TOKEN, LiveServer
from tests.projects import stored_project
from usertrail.model.project import Project

pytestmark = pytest.mark.browser

PATTERN = "Opened Billing 3 times, never completed plan selection"
USER = "user_jane"  # the demo derives the id from the email's local part
IMAGES = ROOT / "docs" / "img"
TIMEOUT_MS = 15_000
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# "Today 14:05 · 3 minutes · Chrome on Linux": a day, a time, a length, a device.
SESSION_HEAD = re.compile(r"^(Today|Yesterday|[A-Z][a-z]+day|\d+ \w+) [\d:]+( [AP]M)? · \d+ \w+")


@pytest.fixture
def demo(live_server: LiveServer, posthog_js: Path) -> Project:
    """The demo's project; its pages load posthog-js from usertrail's /static/ (npm's dist/)."""
    return stored_project(live_server.db_path, "demo")


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context(viewport=DESKTOP)
    ctx.set_default_timeout(TIMEOUT_MS)
    try:
        yield ctx
    finally:
        ctx.close()


def screenshot(page: Page, name: str) -> None:
    if os.environ.get("USERTRAIL_SCREENSHOTS") == "1":
        IMAGES.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(IMAGES / name))


def fits_the_screen(page: Page) -> None:
    """Nothing wider than the viewport: no sideways scrolling of the whole page."""
    width = page.viewport_size["width"] if page.viewport_size else 0
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def at_phone_width(page: Page, name: str) -> None:
    """The same page at 390 px: it fits, and its screenshot is saved next to the desktop's."""
    desktop = page.viewport_size
    page.set_viewport_size(PHONE)
    page.evaluate("window.scrollTo(0, 0)")
    fits_the_screen(page)
    screenshot(page, name)
    if desktop:
        page.set_viewport_size(desktop)


def reads_in_plain_words(ui: Page) -> None:
    """What a product manager reads: no ids, scores, internal names or bare "event" links."""
    text = ui.locator("#person").inner_text()
    for jargon in ("confidence", "Sink", "sink", "#5", "power_user", "training_data", "feature_"):
        assert jargon not in text, jargon
    aka = ui.locator("#person .aka").inner_text()
    assert aka == "Browsed anonymously on 1 device before signing in.", aka
    links = [t.strip().lower() for t in ui.locator("#person button.link").all_inner_texts()]
    assert links
    assert "event" not in links
    heads = ui.locator(".session h3").all_inner_texts()
    assert heads
    for head in heads:
        assert SESSION_HEAD.match(head), head
        assert not UUID.search(head), head


def go(page: Page, link: str) -> None:
    page.locator("nav.sidebar").get_by_role("link", name=link, exact=True).click()
    page.wait_for_function("t => document.title.startsWith(t)", arg=f"{link} ·")


def read(server: LiveServer, path: str, key: str) -> dict[str, Any]:
    response = httpx.get(f"{server.url}{path}", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.text
    return dict(response.json())


def browse_log_in_and_hesitate(page: Page) -> str:
    """An anonymous visit, a login, Billing three times without a plan, five feature uses.
    Returns the anonymous distinct id."""
    page.wait_for_function("window.__acmeReady === true")
    go(page, "Dashboard")
    go(page, "Reports")
    page.get_by_role("button", name="Export CSV").first.click()
    go(page, "Home")
    anonymous = str(page.evaluate("posthog.get_distinct_id()"))

    page.locator("#login-link").click()
    page.fill("input[name=name]", "Jane Doe")
    page.fill("input[name=email]", "jane@example.com")
    page.get_by_role("button", name="Log in").click()
    page.locator("#who").get_by_text(f"Signed in as Jane Doe ({USER})").wait_for()

    for then in ("Dashboard", "Reports", None):
        go(page, "Billing")
        page.get_by_role("button", name="Upgrade to Pro").wait_for()
        if then:
            go(page, then)
    for _ in range(5):
        page.get_by_role("button", name="Simulate Feature Usage").click()
    return anonymous


def test_demo_visitor_shows_up_on_the_dashboard_with_pattern_and_firing(
    live_server: LiveServer, demo: Project, context: BrowserContext
) -> None:
    page = context.new_page()
    page.goto(f"{live_server.url}/demo")
    anonymous = browse_log_in_and_hesitate(page)

    # The assistant panel follows the context live, and the trigger's webhook lands.
    page.locator("#ctx-patterns").get_by_text(PATTERN).wait_for()
    page.locator("#inbox").get_by_text(f"power_user fired for {USER} (count 5)").wait_for()
    assert "## What this user has been doing" in page.locator("#ctx-prompt").inner_text()
    fits_the_screen(page)
    screenshot(page, "demo.png")
    at_phone_width(page, "demo-phone.png")

    # The context API agrees, and holds the pre-login visit.
    ctx = read(live_server, f"/context/user/{USER}?n=50", demo.api_key)
    assert anonymous in ctx["user"]["distinct_ids"]
    [pattern] = [p for p in ctx["patterns"] if p["id"] == "plan_selection_abandonment"]
    assert pattern["summary"] == PATTERN
    assert (pattern["evidence"]["starts"], pattern["evidence"]["completed"]) == (3, 0)
    assert "Reports" in {e["page"] for e in ctx["recent_events"]}
    [firing] = read(live_server, f"/actions/user/{USER}", demo.api_key)["firings"]
    assert (firing["trigger"], firing["threshold"], firing["count"]) == ("power_user", 5, 5)

    # The dashboard, opened from the demo with the demo's key.
    with context.expect_page() as opened:
        page.get_by_role("button", name="Open the dashboard").click()
    ui = opened.value
    ui.locator("#active-list").get_by_text(USER, exact=True).click()
    ui.locator("#patterns").get_by_text(PATTERN).wait_for()
    ui.locator("#firings").get_by_text("Power user", exact=True).wait_for()
    ui.locator("#firings .delivery.delivered", has_text="Webhook sent").wait_for()
    ui.locator("#firings .delivery.dead", has_text="SMTP is not configured").wait_for()

    # Live: an event sent in the demo shows on the open dashboard without a reload.
    page.get_by_role("button", name="Simulate Generation Failure").click()
    saved = "Failed AI generations, kept for the training set: saved."
    ui.locator("#sinks").get_by_text(saved).wait_for()
    reads_in_plain_words(ui)

    # The raw event behind a label is one click away.
    ui.locator(".event.pageview button.label", has_text="Billing").first.click()
    raw = ui.locator("#raw-json")
    raw.get_by_text('"event": "$pageview"').wait_for()
    assert "/demo/settings/billing" in raw.inner_text()
    ui.evaluate("window.scrollTo(0, 0)")
    fits_the_screen(ui)
    screenshot(ui, "dashboard.png")
    ui.locator("#raw-close").click()
    at_phone_width(ui, "dashboard-phone.png")


def test_each_demo_visitor_has_its_own_webhook_inbox(
    live_server: LiveServer, demo: Project, browser: Browser
) -> None:
    """A webhook about one visitor's person is never listed in another visitor's inbox."""
    first, second = browser.new_context(viewport=DESKTOP), browser.new_context(viewport=PHONE)
    try:
        page = first.new_page()
        page.goto(f"{live_server.url}/demo")
        page.wait_for_function("window.__acmeReady === true")
        for _ in range(5):
            page.get_by_role("button", name="Simulate Feature Usage").click()
        page.locator("#inbox").get_by_text("power_user fired for").wait_for(timeout=TIMEOUT_MS)

        other = second.new_page()
        with other.expect_response("**/demo/api/webhooks") as answer:
            other.goto(f"{live_server.url}/demo")
        assert answer.value.json()["received"] == []
        assert other.locator("#inbox li").count() == 0
        fits_the_screen(other)
    finally:
        first.close()
        second.close()


def test_an_empty_project_points_to_the_demo_key(
    live_server: LiveServer, demo: Project, context: BrowserContext
) -> None:
    ui = context.new_page()
    ui.goto(f"{live_server.url}/ui")
    ui.fill("input[name=api_key]", API_KEY)  # the first key `usertrail serve` prints
    ui.get_by_role("button", name="Open the dashboard").click()
    hint = ui.locator("#demo-hint")
    hint.wait_for()
    assert demo.api_key in hint.inner_text()
    fits_the_screen(ui)
    at_phone_width(ui, "dashboard-empty-phone.png")
    hint.get_by_role("button", name="Show the demo's visitors").click()
    ui.locator("#demo-hint").wait_for(state="hidden")
    assert "Acme" in ui.locator(".bar .project").inner_text()


def test_dashboard_shows_hostile_strings_as_text(
    live_server: LiveServer, context: BrowserContext
) -> None:
    hostile = '<img src=x onerror="window.__owned = 1">'
    client = Posthog(TOKEN, host=live_server.url, sync_mode=True)
    client.capture(
        "$autocapture",
        distinct_id="mallory",
        properties={
            "$current_url": "https://app.test/settings",
            "$event_type": "click",
            "$elements_chain": f'button:text="{hostile.replace(chr(34), chr(39))}"',
        },
    )
    ui = context.new_page()
    ui.goto(f"{live_server.url}/ui")
    ui.fill("input[name=api_key]", API_KEY)
    ui.get_by_role("button", name="Open the dashboard").click()
    ui.locator("#active-list").get_by_text("mallory", exact=True).click()
    ui.locator(".events button.label", has_text="<img src=x").wait_for()
    assert ui.evaluate("window.__owned") is None
    assert ui.locator("#person img").count() == 0
