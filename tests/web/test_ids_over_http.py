"""Ids at the HTTP edge, on SQLite and PostgreSQL: one rule (core.ids) for capture and URLs,
ids holding `/` addressable on every route, and a NUL, a 10 kB id or a 5,000-digit number
answered with a clear 4xx, never a 5xx."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest

from tests.live import TOKEN
from tests.privacy.kit import AUTH, Site, site, wait_until

SLASHED = "team/acme/josé"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    with site(request.param, tmp_path_factory.mktemp(f"ids-{request.param}")) as s:
        yield s


def capture(s: Site, distinct_id: object, **props: object) -> httpx.Response:
    event = {
        "event": "feature_used",
        "distinct_id": distinct_id,
        "properties": props,
        "uuid": str(uuid.uuid4()),  # three equal events are three uses, not one retried
    }
    return httpx.post(f"{s.url}/e/?token={TOKEN}", json=event, timeout=10)


def id_routes(encoded: str) -> list[tuple[str, str]]:
    return [
        ("GET", f"/context/user/{encoded}"),
        ("GET", f"/actions/user/{encoded}"),
        ("GET", f"/persons/{encoded}/export"),
        ("GET", f"/ui/api/person/{encoded}"),
        ("DELETE", f"/persons/{encoded}"),
    ]


@pytest.mark.parametrize("encoded", [SLASHED, quote(SLASHED, safe="")], ids=["as-is", "%2F"])
def test_a_person_whose_id_holds_a_slash_is_read_exported_and_erased(
    live: Site, encoded: str
) -> None:
    for _ in range(3):  # the trigger's third use fires its webhook
        assert capture(live, SLASHED, feature_name="export").status_code == 200
    wait_until(lambda: live.event_count(SLASHED) == 3, what="the events", timeout=60)
    for method, path in id_routes(encoded):
        response = httpx.request(method, f"{live.url}{path}", headers=AUTH, timeout=30)
        assert response.status_code == 200, (method, path, response.text)
    assert httpx.get(f"{live.url}/context/user/{encoded}", headers=AUTH).status_code == 404


def test_a_slashed_id_streams_its_context(live: Site) -> None:
    assert capture(live, "a/b").status_code == 200
    wait_until(lambda: live.event_count("a/b") == 1, what="the event", timeout=60)
    url = f"{live.url}/context/user/a/b/stream"
    with httpx.stream("GET", url, headers=AUTH, timeout=10) as response:
        assert response.status_code == 200
        first = next(response.iter_lines())
    assert first == "event: context"


def test_an_id_of_exactly_the_limit_is_stored_whole_and_one_longer_is_refused(live: Site) -> None:
    long_a, long_b = "x" * 199 + "a", "x" * 199 + "b"
    assert capture(live, long_a).status_code == 200
    assert capture(live, long_b).status_code == 200
    wait_until(lambda: live.event_count(long_b) == 1, what="the second long id", timeout=60)
    assert live.event_count(long_a) == 1  # two people, not one cut to a shared prefix
    refused = capture(live, "x" * 201)
    assert refused.status_code == 400
    assert "1 to 200 characters" in refused.json()["detail"]


@pytest.mark.parametrize("bad", ["a\x00b", "a\x1fb", "x" * 10_000])
def test_an_impossible_distinct_id_is_refused_at_capture_naming_the_rule(
    live: Site, bad: str
) -> None:
    response = capture(live, bad)
    assert response.status_code == 400
    assert "an id is 1 to 200 characters" in response.json()["detail"]


@pytest.mark.parametrize("bad", ["%00", "a%00b", "x" * 10_000, "%1F", "%20"])
def test_an_impossible_id_in_a_url_is_400_on_every_route(live: Site, bad: str) -> None:
    for method, path in [*id_routes(bad), ("GET", f"/context/user/{bad}/stream")]:
        response = httpx.request(method, f"{live.url}{path}", headers=AUTH, timeout=10)
        assert response.status_code == 400, (method, path[:60], response.text[:200])
        assert "an id is 1 to 200 characters" in response.json()["detail"]


def test_a_nul_in_a_dashboard_event_uuid_is_400(live: Site) -> None:
    response = httpx.get(f"{live.url}/ui/api/event/a%00b", headers=AUTH)
    assert response.status_code == 400
    assert "not a uuid" in response.json()["detail"]


NUMBERED = [
    ("/context/user/digits", "n"),
    ("/context/user/digits", "max_tokens"),
    ("/context/user/digits/stream", "n"),
    ("/ui/api/active", "minutes"),
    ("/ui/api/active", "limit"),
]


@pytest.mark.parametrize(("path", "param"), NUMBERED)
@pytest.mark.parametrize("headers", [AUTH, {}], ids=["key", "no-key"])
def test_a_five_thousand_digit_number_in_the_query_is_a_4xx(
    live: Site, path: str, param: str, headers: dict[str, str]
) -> None:
    assert capture(live, "digits").status_code == 200
    wait_until(lambda: live.event_count("digits") >= 1, what="the event", timeout=60)
    for digits in ("9" * 5000, "1" + "0" * 30):
        response = httpx.get(f"{live.url}{path}", params={param: digits}, headers=headers)
        assert 400 <= response.status_code < 500, (path, response.text[:200])
        assert "9" * 100 not in response.text  # the answer does not echo the input back


def test_an_identify_naming_an_impossible_anonymous_id_is_processed_without_a_merge(
    live: Site,
) -> None:
    """Such an event used to fail every processing attempt on PostgreSQL, dead-lettered and
    republished for ever: now the merge is ignored (as PostHog ignores placeholder ids)."""
    event = {
        "event": "$identify",
        "distinct_id": "merger",
        "properties": {"$anon_distinct_id": "anon\x00nul"},
    }
    assert httpx.post(f"{live.url}/e/?token={TOKEN}", json=event).status_code == 200
    wait_until(lambda: live.event_count("merger") == 1, what="the identify", timeout=60)
    metrics = httpx.get(f"{live.url}/metrics").text
    assert "usertrail_errors_total{" not in metrics


def test_random_paths_add_no_metric_series(live: Site) -> None:
    def series() -> int:
        text = httpx.get(f"{live.url}/metrics").text
        return sum(1 for line in text.splitlines() if line.startswith("usertrail_request_"))

    httpx.get(f"{live.url}/nowhere-0")  # each label value once before counting
    httpx.get(f"{live.url}/context/user/someone", headers=AUTH)
    before = series()
    for i in range(200):
        httpx.get(f"{live.url}/nowhere-{i}/x{i}")
        httpx.get(f"{live.url}/context/user/someone-{i}", headers=AUTH)
    assert series() == before
    assert 'route="unmatched"' in httpx.get(f"{live.url}/metrics").text
