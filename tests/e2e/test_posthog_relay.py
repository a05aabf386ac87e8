"""posthog-js in Chromium with usertrail as its api_host and PostHog (a stand-in on loopback)
behind it: autocapture reaches both, PostHog's flags are on in the page, recordings reach
PostHog; and the recipe without a proxy, a second named instance, works too."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.browser import page_url
from tests.live import LiveServer, wait_for
from tests.posthog_standin import FLAG_KEY, StandIn
from tests.rawlog import raw_rows

pytestmark = pytest.mark.browser


@contextmanager
def usertrail(data_dir: Path, **env: str) -> Iterator[LiveServer]:
    server = LiveServer(data_dir, env={"USERTRAIL_DEMO": "0", **env}).start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def opened(browser: Browser, url: str) -> Iterator[Page]:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(url)
        page.wait_for_function("window.__posthogLoaded === true", timeout=15_000)
        yield page
    finally:
        context.close()


def autocaptures_at(posthog: StandIn) -> list[dict[str, object]]:
    return [e for e in posthog.events() if e["event"] == "$autocapture"]


def test_autocapture_flags_and_recordings_with_usertrail_as_api_host(
    browser: Browser, page_origin: str, posthog: StandIn, tmp_path: Path
) -> None:
    with (
        usertrail(tmp_path / "ut", USERTRAIL_POSTHOG_HOST=posthog.url) as server,
        opened(browser, page_url(page_origin, server.url, record="1")) as page,
    ):
        page.wait_for_function(f"posthog.isFeatureEnabled({FLAG_KEY!r}) === true", timeout=15_000)
        page.click("text=Upgrade to Pro")
        [clicked] = wait_for(
            lambda: raw_rows(server.db_path, "event = '$autocapture'"),
            what="autocapture at usertrail",
        )
        [relayed] = wait_for(lambda: autocaptures_at(posthog), what="autocapture at PostHog")
        wait_for(lambda: posthog.recordings, 20, "a recording chunk at PostHog")
    assert relayed["uuid"] == clicked["uuid"]
    assert 'text="Upgrade to Pro"' in str(relayed["properties"]["$elements_chain"])  # type: ignore[index]
    assert posthog.flag_requests, "flags were not asked of PostHog"
    chunks = [e for r in posthog.recordings for e in _events_of(r.body)]
    assert {e["event"] for e in chunks} == {"$snapshot"}
    assert not raw_rows(server.db_path, "event = '$snapshot'")  # forwarded, never stored


def test_a_second_named_instance_sends_to_usertrail_and_posthog_keeps_its_own(
    browser: Browser, page_origin: str, posthog: StandIn, tmp_path: Path
) -> None:
    with usertrail(tmp_path / "ut") as server:
        url = page_url(page_origin, server.url, "named.html", posthog_host=posthog.url)
        with opened(browser, url) as page:
            page.click("text=Upgrade to Pro")
            [at_usertrail] = wait_for(
                lambda: raw_rows(server.db_path, "event = '$autocapture'"), what="usertrail"
            )
            [at_posthog] = wait_for(lambda: autocaptures_at(posthog), what="PostHog")
    # Two instances, two SDK-made events for one click: each system has its own copy.
    assert at_usertrail["uuid"] != at_posthog["uuid"]


def _events_of(body: object) -> list[dict[str, object]]:
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        return list(body.get("batch", [body]))
    return []
