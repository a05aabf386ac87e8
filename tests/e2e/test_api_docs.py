"""/docs and /redoc render the API in Chromium with every request outside the server refused:
Swagger UI and ReDoc come from node_modules, never from a CDN."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Route

from tests.live import LiveServer

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data: Path = tmp_path_factory.mktemp("docs") / "data"
    live = LiveServer(data_dir=data, env={"USERTRAIL_DEMO": "0"}).start()
    yield live
    live.stop()


def offline_page(browser: Browser, server: LiveServer, elsewhere: list[str]) -> Page:
    """A page whose requests to any other origin are recorded and refused."""
    page = browser.new_page()

    def gate(route: Route) -> None:
        if route.request.url.startswith(server.url):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", gate)
    return page


def test_swagger_ui_renders_every_route_group_offline(browser: Browser, server: LiveServer) -> None:
    elsewhere: list[str] = []
    page = offline_page(browser, server, elsewhere)
    page.goto(f"{server.url}/docs")
    page.get_by_text("/context/user/{user_id}", exact=True).first.wait_for(timeout=15_000)
    for path in ("/batch/", "/webhooks/posthog", "/mcp/", "/healthz", "/metrics"):
        assert page.get_by_text(path, exact=True).count() >= 1, path
    assert elsewhere == []
    page.close()


def test_redoc_renders_the_api_offline(browser: Browser, server: LiveServer) -> None:
    elsewhere: list[str] = []
    page = offline_page(browser, server, elsewhere)
    page.goto(f"{server.url}/redoc")
    heading = page.locator("h2", has_text="PostHog HTTP Webhook destination")
    heading.wait_for(timeout=20_000)  # an operation's own section, rendered
    assert page.locator("h2", has_text="What this user has been doing, for an LLM").count() == 1
    assert elsewhere == []
    page.close()
