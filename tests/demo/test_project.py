"""The demo's project file, as the demo tenant loads it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories import click, make_raw, pageview
from usertrail.core.normalize import normalize
from usertrail.demo.project import DEMO_PROJECT_FILE, DEMO_PROJECT_ID, demo_config, loopback_url
from usertrail.project_file import load_project_file

PLAN_CARD = (
    'button:text="Upgrade to Pro";div.plan-card;section.plans:attr__data-ph-component="plan-picker"'
)


def test_the_shipped_file_is_valid_as_it_stands() -> None:
    config = load_project_file(DEMO_PROJECT_FILE)
    [webhook] = [a.webhook for a in config.triggers["power_user"].actions if a.webhook]
    assert webhook.url == "http://127.0.0.1:8000/demo/webhook-inbox"
    assert webhook.secret_env is None


def test_the_webhook_points_at_the_server_that_loads_it() -> None:
    config = demo_config("http://127.0.0.1:41234")
    [webhook] = [a.webhook for a in config.triggers["power_user"].actions if a.webhook]
    assert webhook.url == "http://127.0.0.1:41234/demo/webhook-inbox"


@pytest.mark.parametrize(
    ("path", "page"),
    [
        ("/demo", "Home"),
        ("/demo/", "Home"),
        ("/demo/dashboard", "Dashboard"),
        ("/demo/reports", "Reports"),
        ("/demo/settings/billing", "Billing"),
        ("/demo/settings", "Settings"),
    ],
)
def test_demo_routes_are_named_as_acmes_pages(path: str, page: str) -> None:
    assert normalize(pageview(path), demo_config("http://x")).page == page


def test_a_plan_card_click_is_the_funnels_second_step() -> None:
    event = normalize(click("/demo/settings/billing", PLAN_CARD), demo_config("http://x"))
    assert event.matched == (".plan-card button",)
    assert event.component == "Plan picker"


def test_the_simulated_feature_has_a_readable_name() -> None:
    assert normalize(make_raw("feature_used"), demo_config("http://x")).feature == "AI summaries"


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:8000"),
        ("0.0.0.0", "http://127.0.0.1:8000"),
        ("::", "http://[::1]:8000"),
        ("example.test", "http://example.test:8000"),
    ],
)
def test_the_server_reaches_itself_on_a_real_address(host: str, url: str) -> None:
    assert loopback_url(host, 8000) == url


def test_no_real_project_can_take_the_demo_id(tmp_path: Path) -> None:
    """The demo's API key is public, so `demo` must never name a real tenant's data."""
    result = subprocess.run(
        [sys.executable, "-m", "usertrail", "projects", "create", DEMO_PROJECT_ID],
        capture_output=True,
        text=True,
        env={**os.environ, "USERTRAIL_DATA_DIR": str(tmp_path)},
        check=False,
    )
    assert result.returncode != 0
    assert "reserved for the public demo project" in result.stdout + result.stderr
