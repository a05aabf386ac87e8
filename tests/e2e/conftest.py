"""Real browser fixtures: Debian's chromium driven by Playwright, pages on their own origin."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.e2e.browser import CHROMIUM, POSTHOG_JS, launch, serve_pages


def _missing(what: str) -> None:
    if os.environ.get("USERTRAIL_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{what} is required (USERTRAIL_REQUIRE_SERVICES=1)")
    pytest.skip(f"{what} is not installed")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        _missing(f"{CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as pw:
        chromium = launch(pw)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def posthog_js() -> Path:
    """posthog-js's dist/ from npm: a test that needs it skips without it, and fails in CI."""
    if not (POSTHOG_JS / "array.full.js").is_file():
        _missing("posthog-js from npm (npm ci)")
    return POSTHOG_JS


@pytest.fixture(scope="session")
def page_origin(posthog_js: Path) -> Iterator[str]:
    """Test pages and posthog-js from npm, served from another origin than usertrail."""
    with serve_pages() as origin:
        yield origin
