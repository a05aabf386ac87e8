from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from usertrail.core.routes import path_of, route_template
from usertrail.model.config import PathRule


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/projects/123/settings", "/projects/:id/settings"),
        ("/reports/0b6f2c7e-8d1a-4c8e-9f3b-2a1d5e6f7a8b", "/reports/:id"),
        ("/commits/9fceb02d0ae598e95dc970b74767f19372d61af8", "/commits/:id"),
        ("/calendar/2026-11-20", "/calendar/:date"),
        ("/users/jane.doe@example.com/profile", "/users/:email/profile"),
        ("/customers/cus_NffrFeUfNV2Hib", "/customers/:id"),
        ("/s/V1StGXR8_Z5jdHi6B-myT", "/s/:id"),
    ],
    ids=["number", "uuid", "long-hex", "date", "email", "stripe-id", "nanoid"],
)
def test_id_like_segments_become_placeholders(path: str, expected: str) -> None:
    assert route_template(path) == expected


@pytest.mark.parametrize(
    "path",
    ["/settings/billing", "/blog/getting-started-2024", "/docs/api-v2", "/facade"],
)
def test_readable_segments_are_kept(path: str) -> None:
    assert route_template(path) == path


def test_root_stays_root() -> None:
    assert route_template("/") == "/"


def test_trailing_slash_is_the_same_route() -> None:
    assert route_template("/settings/") == "/settings"


def test_project_rules_run_before_heuristics_and_in_order() -> None:
    rules = (
        PathRule(regex=r"^/org/[^/]+/", alias="/org/:org/"),
        PathRule(regex=r"/report-(\w+)$", alias=r"/report/:slug"),
    )
    assert route_template("/org/acme-42/report-q3/123", rules) == "/org/:org/report-q3/:id"
    assert route_template("/org/acme/report-q3", rules) == "/org/:org/report/:slug"


def test_rule_aliases_may_use_group_references() -> None:
    rule = PathRule(regex=r"^/(en|de)/", alias=r"/:lang/\1-")
    assert route_template("/de/pricing", (rule,)) == "/:lang/de-pricing"


def test_path_of_drops_scheme_host_query_and_fragment() -> None:
    assert path_of("https://app.acme.test/settings/billing?plan=pro#top") == "/settings/billing"


def test_path_of_a_bare_host_is_root() -> None:
    assert path_of("https://app.acme.test") == "/"


@pytest.mark.parametrize("url", [None, "", "http://[::1"])
def test_path_of_returns_none_for_missing_or_broken_urls(url: str | None) -> None:
    assert path_of(url) is None


@given(st.text())
def test_route_template_never_raises_and_always_starts_with_a_slash(path: str) -> None:
    assert route_template(path).startswith("/")
