"""The relay: what the real posthog-python SDK sends usertrail reaches PostHog (a stand-in on
loopback), once per uuid, through outages, 429s, poison events and kill -9."""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from posthog import Posthog

from tests.live import API_KEY, TOKEN, WEBHOOK_SECRET, LiveServer, wait_for
from tests.posthog_standin import StandIn
from tests.rawlog import raw_uuids
from tests.upstream.conftest import RELAY_ENV, metric

# Non-ASCII, a slash, a bidi override and markup: relayed as sent, readable by its full id.
HOSTILE_ID = "josé/ü \u202e<img src=x>"


def sdk(server: LiveServer) -> Posthog:
    return Posthog(TOKEN, host=server.url, sync_mode=True, max_retries=0)


def send(server: LiveServer, n: int, *, event: str = "feature_used", user: str = "u1") -> list[str]:
    """n events through posthog-python, each with a uuid of our own; returns the uuids."""
    client = sdk(server)
    uuids = [str(uuid.uuid4()) for _ in range(n)]
    for i, event_uuid in enumerate(uuids):
        client.capture(event, distinct_id=user, properties={"i": i}, uuid=event_uuid)
    return uuids


def relay_status(server: LiveServer) -> dict[str, Any]:
    """What the dashboard shows about the relay (GET /ui/api/relay)."""
    answer = httpx.get(f"{server.url}/ui/api/relay", headers={"Authorization": f"Bearer {API_KEY}"})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def arrived(posthog: StandIn, uuids: list[str], timeout: float = 30) -> Counter[str]:
    wait_for(lambda: set(uuids) <= set(posthog.uuids()), timeout, "every event at PostHog")
    return Counter(u for u in posthog.uuids() if u in set(uuids))


def test_sdk_events_reach_posthog_with_their_uuid_time_and_token(
    relaying: LiveServer, posthog: StandIn
) -> None:
    uuids = send(relaying, 20, user=HOSTILE_ID)
    assert set(arrived(posthog, uuids).values()) == {1}
    event = next(e for e in posthog.events() if e["uuid"] == uuids[0])
    assert event["event"] == "feature_used"
    assert event["distinct_id"] == HOSTILE_ID
    assert event["properties"]["i"] == 0
    assert event["timestamp"].startswith(time.strftime("%Y-%m-%d", time.gmtime()))
    assert {r.body["api_key"] for r in posthog.captured} == {TOKEN}
    assert {r.headers["content-encoding"] for r in posthog.captured} == {"gzip"}
    # ... and usertrail keeps them too: the context reads the same events.
    context = httpx.get(
        f"{relaying.url}/context/user/{quote(HOSTILE_ID, safe='')}",
        headers={"Authorization": f"Bearer {API_KEY}"},
        params={"n": 50},
    )
    assert context.status_code == 200, context.text


def test_the_browser_ip_goes_to_posthog_as_the_events_ip(
    relaying: LiveServer, posthog: StandIn
) -> None:
    event_uuid = str(uuid.uuid4())
    body = {
        "api_key": TOKEN,
        "batch": [
            {"event": "$pageview", "distinct_id": "anon-1", "uuid": event_uuid, "properties": {}}
        ],
    }
    assert httpx.post(f"{relaying.url}/batch/", json=body).status_code == 200
    arrived(posthog, [event_uuid])
    relayed = next(e for e in posthog.events() if e["uuid"] == event_uuid)
    assert relayed["properties"]["$ip"] == "127.0.0.1"


def test_ai_events_go_to_posthogs_ai_endpoint(relaying: LiveServer, posthog: StandIn) -> None:
    uuids = send(relaying, 1, event="$ai_generation")
    arrived(posthog, uuids)
    assert {r.path for r in posthog.captured} == {"/i/v0/ai/batch/"}


def test_posthog_down_under_load_then_back_loses_nothing(
    relaying: LiveServer, posthog: StandIn
) -> None:
    """A minute of outage under load: capture answers 200 throughout, the backlog shows on
    /metrics, and every accepted uuid reaches PostHog once it is back."""
    posthog.stop()
    sent: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # bounded: about 20 events a second for 60 s
        sent += send(relaying, 10)
        time.sleep(0.5)
    assert raw_uuids(relaying.db_path) >= set(sent)
    assert metric(relaying, "usertrail_relay_backlog") > 0
    assert metric(relaying, 'usertrail_relay_events_total{outcome="retried"}') > 0
    assert metric(relaying, "usertrail_relay_lag_seconds") > 10
    status = relay_status(relaying)
    assert status["posthog_host"] == posthog.url
    assert status["backlog"] > 0
    assert status["lag_seconds"] > 10
    posthog.start()
    counts = arrived(posthog, sent, timeout=60)
    assert set(counts) == set(sent)  # repeats, if any, carry the same uuid
    wait_for(lambda: metric(relaying, "usertrail_relay_backlog") == 0, 10, "backlog drained")
    assert relay_status(relaying)["backlog"] == 0


def test_429_is_retried_after_the_time_posthog_asks(relaying: LiveServer, posthog: StandIn) -> None:
    posthog.faults.status, posthog.faults.retry_after = 429, "1"
    uuids = send(relaying, 5)
    wait_for(
        lambda: metric(relaying, 'usertrail_relay_events_total{outcome="retried"}') > 0,
        10,
        "a retry",
    )
    posthog.faults.status = None
    assert set(arrived(posthog, uuids)) == set(uuids)


def test_a_poison_event_is_dead_lettered_alone(relaying: LiveServer, posthog: StandIn) -> None:
    posthog.faults.poison = "poison"
    client = sdk(relaying)
    good = [str(uuid.uuid4()) for _ in range(9)]
    bad = str(uuid.uuid4())
    for i, event_uuid in enumerate(good[:5]):
        client.capture("feature_used", distinct_id="u1", properties={"i": i}, uuid=event_uuid)
    client.capture("poison", distinct_id="u1", uuid=bad)
    for event_uuid in good[5:]:
        client.capture("feature_used", distinct_id="u1", uuid=event_uuid)
    arrived(posthog, good)
    wait_for(
        lambda: metric(relaying, 'usertrail_relay_events_total{outcome="dead"}') == 1,
        10,
        "one dead letter",
    )
    assert bad not in posthog.uuids()
    with sqlite3.connect(relaying.db_path) as conn:
        dead = conn.execute("SELECT uuid, reason FROM relay_dead_letters").fetchall()
    assert len(dead) == 1
    assert dead[0][0] == bad
    assert "400" in dead[0][1]
    status = relay_status(relaying)
    assert status["since_start"]["dead"] == 1
    assert status["since_start"]["sent"] >= 9
    assert status["dead_letters"] == 1
    assert status["recent_dead"][0]["uuid"] == bad


def test_kill_9_mid_relay_loses_nothing(tmp_path: Path, posthog: StandIn) -> None:
    posthog.faults.delay_s = 0.3  # PostHog slow: the relay is mid-batch when it dies
    env = {**RELAY_ENV, "USERTRAIL_POSTHOG_HOST": posthog.url, "USERTRAIL_RELAY_BATCH_EVENTS": "50"}
    server = LiveServer(tmp_path / "ut", env=env).start()
    try:
        body = [
            {"event": "e", "distinct_id": f"u{i % 7}", "uuid": str(uuid.uuid4())}
            for i in range(1000)
        ]
        sent = [e["uuid"] for e in body]
        for chunk in range(0, 1000, 100):
            payload = {"api_key": TOKEN, "batch": body[chunk : chunk + 100]}
            assert httpx.post(f"{server.url}/batch/", json=payload).status_code == 200
        wait_for(lambda: len(posthog.uuids()) >= 100, 20, "relaying under way")
        server.kill()
        assert len(set(posthog.uuids())) < 1000
        server.start()
        counts = arrived(posthog, sent, timeout=60)
        assert set(counts) == set(sent)
    finally:
        server.stop()


def test_webhook_recipe_with_or_without_the_slash_is_never_redirected_nor_relayed_back(
    relaying: LiveServer, posthog: StandIn
) -> None:
    auth = {"Authorization": f"Bearer {WEBHOOK_SECRET}"}
    uuids = []
    for path in ("/webhooks/posthog", "/webhooks/posthog/"):
        event_uuid = str(uuid.uuid4())
        uuids.append(event_uuid)
        body = {
            "event": {
                "uuid": event_uuid,
                "event": "$pageview",
                "distinct_id": "w1",
                "properties": {},
                "timestamp": "2026-12-06T09:00:00Z",
            }
        }
        answer = httpx.post(relaying.url + path, json=body, headers=auth, follow_redirects=False)
        assert answer.status_code == 200, (path, answer.status_code)
    assert raw_uuids(relaying.db_path) >= set(uuids)
    marker = send(relaying, 1)  # relayed after the webhook events in log order
    arrived(posthog, marker)
    assert not set(uuids) & set(posthog.uuids())


def test_capture_answers_while_posthog_hangs(relaying: LiveServer, posthog: StandIn) -> None:
    """PostHog holds every relay request for 30 s: capture still answers them all, while
    PostHog has answered nothing yet (capture waits for its own commit, never for PostHog)."""
    posthog.faults.delay_s = 30
    send(relaying, 1)  # the relay is now stuck in a request to PostHog
    answers: list[int] = []

    def one() -> None:
        body = {"api_key": TOKEN, "event": "x", "distinct_id": "u"}
        answers.append(httpx.post(f"{relaying.url}/e/", json=body, timeout=25).status_code)

    threads = [threading.Thread(target=one) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(25)
    assert answers == [200] * 20
    assert posthog.captured == []  # not one relay request has been answered
