"""USERTRAIL_RETENTION_DAYS and `usertrail prune`, on real servers with real timestamps in
the past (sent by posthog-python, skew-corrected by ingest like any other event)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.privacy.kit import Site, site, wait_until

BILLING = {"$current_url": "https://app.acme.test/settings/billing"}
ACCOUNT = {"company": "acme"}  # a membership whose first sighting is pruned


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    with site(request.param, tmp_path_factory.mktemp(f"retention-{request.param}")) as s:
        yield s


def history(s: Site, user: str) -> dict[str, str]:
    """A login 40 days ago, a visit and a feature use then, and one visit now."""
    old = datetime.now(UTC) - timedelta(days=40)
    client = s.posthog()
    login = {"$anon_distinct_id": f"{user}-anon", "$set": {"plan": "pro"}}
    sent = {
        "login": client.capture("$identify", distinct_id=user, properties=login, timestamp=old),
        "old view": client.capture(
            "$pageview",
            distinct_id=user,
            properties={**BILLING, "$set_once": {"first_page": "billing"}},
            timestamp=old + timedelta(minutes=1),
            groups=ACCOUNT,
        ),
        "old use": client.capture(
            "feature_used", distinct_id=user, timestamp=old + timedelta(minutes=2)
        ),
        "new view": client.capture(
            "$pageview", distinct_id=user, properties=BILLING, groups=ACCOUNT
        ),
    }
    wait_until(lambda: s.event_count(user) == 4, what="the history")
    return {k: str(v) for k, v in sent.items()}


def counters(export: dict[str, Any]) -> dict[str, int]:
    return {c["key"]: c["counter"]["count"] for c in export["counters"] if "day:" not in c["key"]}


def test_prune_keeps_n_days_and_rebuilds_the_counters(live: Site) -> None:
    user = f"old-timer-{live.database_url[:6]}"
    sent = history(live, user)
    before = live.export(user)
    assert counters(before)["event:$pageview"] == 2
    assert before["person"]["properties"] == {"first_page": "billing", "plan": "pro"}

    result = live.cli("prune", "--days", "30")

    assert "pruned 2 events" in result.stderr
    after = live.export(user)
    assert sorted(e["uuid"] for e in after["raw_events"]) == sorted(
        [sent["login"], sent["new view"]]
    )
    assert sorted(e["uuid"] for e in after["events"]) == sorted([sent["login"], sent["new view"]])
    assert counters(after) == {
        "event:$identify": 1,  # who the person is: kept whatever its age
        "event:$pageview": 1,
        "page:Billing": 1,
        "funnel:plan_selection:0": 1,
    }
    assert after["person"]["properties"] == {"plan": "pro"}  # the pruned view's $set_once left
    assert after["person"]["distinct_ids"] == before["person"]["distinct_ids"]
    assert live.get(f"/ui/api/event/{sent['old view']}").status_code == 404
    assert [m["member"] for m in after["sets"]] == [m["member"] for m in before["sets"]][-1:]


def test_the_processor_prunes_every_period(tmp_path: Path) -> None:
    env = {"USERTRAIL_RETENTION_DAYS": "30", "USERTRAIL_RETENTION_EVERY_S": "0.2"}
    with site("sqlite", tmp_path, **env) as s:
        old = datetime.now(UTC) - timedelta(days=31)
        client = s.posthog()
        stale = client.capture("$pageview", distinct_id="u1", properties=BILLING, timestamp=old)
        fresh = client.capture("$pageview", distinct_id="u1", properties=BILLING)
        wait_until(lambda: s.event_count("u1") == 1, what="the stale event to be pruned")
        assert [e["uuid"] for e in s.export("u1")["raw_events"]] == [fresh]
        assert s.get(f"/ui/api/event/{stale}").status_code == 404
        assert counters(s.export("u1"))["event:$pageview"] == 1


def test_a_replay_after_pruning_rebuilds_the_same_state(tmp_path: Path) -> None:
    with site("sqlite", tmp_path) as s:
        history(s, "u2")
        s.cli("prune", "--days", "30")
        pruned = comparable(s.export("u2"))
        [group] = s.export("u2")["groups"]
        assert datetime.fromisoformat(group["first_seen"]) > datetime.now(UTC) - timedelta(days=1)
        s.server.stop()
        s.cli("replay")
        s.server.start()
        assert comparable(s.export("u2")) == pruned


def comparable(export: dict[str, Any]) -> dict[str, Any]:
    """What replay must reproduce (first and last seen stay the first and last sightings)."""
    keep = (
        "raw_events",
        "events",
        "counters",
        "sets",
        "identity_edges",
        "person_updates",
        "groups",  # the person's accounts: a membership's span is rebuilt too
    )
    out = {k: sorted(map(repr, export[k])) for k in keep}
    return out | {"properties": export["person"]["properties"]}
