"""DELETE /persons/{id} and GET /persons/{id}/export against a real server fed by the real
posthog-python SDK, on SQLite and PostgreSQL: a trigger that fired and sink lines written
(some already rotated into an older file) before the erasure."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live import TOKEN
from tests.privacy.kit import Site, site, wait_until

BILLING = {"$current_url": "https://app.acme.test/settings/billing"}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    with site(request.param, tmp_path_factory.mktemp(f"privacy-{request.param}")) as s:
        yield s


def failed_generation(s: Site, user: str, prompt: str) -> None:
    """One sink line, written to the file before this returns."""
    before = s.sink_status(user).count("written")
    s.posthog().capture(
        "generation_failed",
        distinct_id=user,
        properties={"input_prompt": prompt, "failure_reason": "timeout"},
    )
    wait_until(lambda: s.sink_status(user).count("written") == before + 1, what="a sink line")


def known_person(s: Site, name: str) -> tuple[str, str]:
    """An anonymous visit, a login, a trigger that fired (webhook delivered), two sink lines
    with another user's lines around them (so one of them is rotated away)."""
    anon, user = f"{name}-anon-7x", f"{name}-7x"
    client = s.posthog()
    for _ in range(2):
        client.capture("$pageview", distinct_id=anon, properties=BILLING)
    login = {"$anon_distinct_id": anon, "$set": {"email": f"{name}@example.test"}}
    client.capture("$identify", distinct_id=user, properties=login)
    for _ in range(3):
        client.capture("feature_used", distinct_id=user, properties={"feature_name": "export"})
    for i in range(6):
        failed_generation(s, f"bystander-{name}", f"bystander prompt {i} " + "." * 100)
        if i in (2, 5):
            failed_generation(s, user, f"{name}'s secret prompt {i}")
    wait_until(lambda: s.event_count(user) == 8, what="the person's events")
    wait_until(lambda: _delivered(s, user) == ["delivered"], what="the firing's webhook")
    return anon, user


def _delivered(s: Site, user: str) -> list[str]:
    response = s.get(f"/actions/user/{user}")
    firings = response.json()["firings"] if response.status_code == 200 else []
    return [d["status"] for f in firings for d in f["deliveries"]]


def test_deleting_any_id_erases_the_whole_person_everywhere(live: Site) -> None:
    anon, user = known_person(live, "ada")
    rotated = [f for f in live.sink_files() if f.name != "training_data.jsonl"]
    assert any(b"ada's secret" in f.read_bytes() for f in rotated), "no line was rotated yet"
    assert live.context(user).status_code == 200  # now hot in the context cache

    response = live.delete(anon)

    assert response.status_code == 200, response.text
    report = response.json()
    assert sorted(report["distinct_ids"]) == sorted([anon, user])
    assert report["sink_files"] == "purged"
    deleted = report["deleted"]
    assert deleted["raw_events"] == deleted["events"] == 8  # 2 views, login, 3 uses, 2 failures
    assert (deleted["persons"], deleted["identity_edges"], deleted["person_updates"]) == (2, 1, 1)
    assert (deleted["trigger_firings"], deleted["deliveries_delivered"]) == (1, 1)
    assert (deleted["trigger_hits"], deleted["sink_records"]) == (3, 2)
    assert deleted["counters"] > 0
    assert deleted["counter_members"] > 0
    for distinct_id in (anon, user):
        for path in ("/context/user/{}", "/actions/user/{}", "/persons/{}/export"):
            assert live.get(path.format(distinct_id)).status_code == 404
    lines = live.sink_lines()
    # Searched outside `uuid`: a random event uuid can hold "ada-" ("…-4ada-…" failed a CI run).
    unkeyed = [str({k: v for k, v in line.items() if k != "uuid"}) for line in lines]
    assert [text for text in unkeyed if "ada-" in text or "ada's" in text] == []
    assert len([line for line in lines if line["distinct_id"] == "bystander-ada"]) == 6
    assert live.rows_mentioning(anon, user, "ada@example.test", "ada's secret") == []


def test_an_export_holds_everything_stored_about_the_person(live: Site) -> None:
    anon, user = known_person(live, "cyd")

    response = live.get(f"/persons/{anon}/export")

    assert response.status_code == 200
    assert "content-length" not in response.headers  # streamed
    export: dict[str, Any] = response.json()
    assert export["person"]["key"] == user
    assert export["person"]["distinct_ids"] == [anon, user]
    assert export["person"]["properties"] == {"email": "cyd@example.test"}
    assert len(export["raw_events"]) == len(export["events"]) == 8
    raw_names = sorted(e["event"] for e in export["raw_events"])
    assert raw_names.count("feature_used") == 3
    assert {e["body"]["event"] for e in export["raw_events"]} == set(raw_names)
    assert [e["label"] for e in export["events"] if e["kind"] == "pageview"] == [
        "Viewed Billing"
    ] * 2
    assert [e["kind"] for e in export["identity_edges"]] == ["identify"]
    counters = {(c["distinct_id"], c["key"]): c["counter"]["count"] for c in export["counters"]}
    assert counters[(user, "event:feature_used")] == 3
    [firing] = export["trigger_firings"]
    assert [d["status"] for d in firing["deliveries"]] == ["delivered"]
    prompts = [line["line"]["input_prompt"] for line in export["sink_lines"]]
    assert prompts == ["cyd's secret prompt 2", "cyd's secret prompt 5"]
    assert "bystander" not in response.text


def test_late_events_from_before_the_erasure_are_dropped_and_only_a_new_login_links_ids(
    live: Site,
) -> None:
    anon, user = "eve-anon-7x", "eve-7x"
    client = live.posthog()
    client.capture("$pageview", distinct_id=anon, properties=BILLING)
    client.capture("$identify", distinct_id=user, properties={"$anon_distinct_id": anon})
    wait_until(lambda: live.event_count(user) == 2)
    before = datetime.now(UTC) - timedelta(minutes=5)
    assert live.delete(user).status_code == 200

    # Happened before the erasure, arrived after (an SDK's offline queue): erased history.
    client.capture("$pageview", distinct_id=anon, properties=BILLING, timestamp=before)
    late_login = {"$anon_distinct_id": anon, "$set": {"plan": "late"}}
    client.capture("$identify", distinct_id=user, properties=late_login, timestamp=before)
    client.capture("$pageview", distinct_id=anon, properties=BILLING)  # new: a fresh person
    wait_until(lambda: live.event_count(anon) == 1)  # processed in order: the late ones too
    assert live.context(user).status_code == 404
    assert ids_of(live, anon) == [anon]

    client.capture("$identify", distinct_id=user, properties={"$anon_distinct_id": anon})
    wait_until(lambda: set(ids_of(live, user)) == {anon, user}, what="the new login's merge")
    assert live.event_count(user) == 2  # the fresh history only: nothing from before


def test_an_erased_event_sent_again_with_its_uuid_never_comes_back(live: Site) -> None:
    anon, user = known_person(live, "gus")
    bodies = [e["body"] for e in live.export(user)["raw_events"]]
    assert live.delete(user).status_code == 200
    if live.database_url.startswith("sqlite"):  # zeroed pages, the WAL checkpointed
        for path in live.server.data_dir.glob("usertrail.db*"):  # the file, its WAL and SHM
            assert b"gus's secret" not in path.read_bytes(), path.name

    resent = httpx.post(f"{live.url}/batch/", json={"api_key": TOKEN, "batch": bodies})
    assert resent.status_code == 200
    live.posthog().capture("$pageview", distinct_id="gus-sentinel", properties=BILLING)
    wait_until(lambda: live.event_count("gus-sentinel") == 1)  # the resent ones went before

    for distinct_id in (anon, user):
        assert live.context(distinct_id).status_code == 404
    assert not [line for line in live.sink_lines() if "gus's secret" in str(line)]
    assert live.rows_mentioning(anon, user, "gus@example.test", "gus's secret") == []


def ids_of(s: Site, user: str) -> list[str]:
    response = s.context(user)
    return list(response.json()["user"]["distinct_ids"]) if response.status_code == 200 else []


def test_an_unknown_id_is_404_and_erases_nothing(live: Site) -> None:
    response = live.delete("nobody-7x")
    assert response.status_code == 404
    assert response.json()["detail"] == "no user 'nobody-7x' in this project"


def test_erased_ids_stay_erased_through_a_replay(tmp_path: Path) -> None:
    with site("sqlite", tmp_path) as s:
        anon, user = "fay-anon-7x", "fay-7x"
        client = s.posthog()
        client.capture("$pageview", distinct_id=anon, properties=BILLING)
        client.capture("$identify", distinct_id=user, properties={"$anon_distinct_id": anon})
        wait_until(lambda: s.event_count(user) == 2)
        assert s.delete(anon).status_code == 200
        before = datetime.now(UTC) - timedelta(minutes=5)
        client.capture(
            "$identify", distinct_id=user, properties={"$anon_distinct_id": anon}, timestamp=before
        )
        client.capture("$pageview", distinct_id=anon, properties=BILLING)
        wait_until(lambda: s.event_count(anon) == 1)
        s.server.stop()
        s.cli("replay")
        s.server.start()
        assert (ids_of(s, user), ids_of(s, anon)) == ([], [anon])
        assert (s.event_count(user), s.event_count(anon)) == (0, 1)


def test_an_export_names_the_account_and_erasing_takes_membership_and_updates(live: Site) -> None:
    user = "eve-7x"
    client = live.posthog()
    account = {"company": "eve-co-7x"}
    client.capture("$pageview", distinct_id=user, properties=BILLING, groups=account)
    # posthog-js sends `$groupidentify` under the person's own id.
    client.group_identify("company", "eve-co-7x", {"seats": 3}, distinct_id=user)
    path = "/context/group/company/eve-co-7x"
    wait_until(lambda: live.get(path).status_code == 200, what="the account")
    wait_until(lambda: live.get(path).json()["member_count"] == 1, what="the membership")
    [group] = live.export(user)["groups"]
    assert (group["group_key"], group["updates"][0]["set"]) == ("eve-co-7x", {"seats": 3})

    assert live.delete(user).status_code == 200

    assert live.get(path).status_code == 404
    assert live.rows_mentioning(user) == []
