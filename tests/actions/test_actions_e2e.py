"""Triggers and sinks end to end: the real server, the real posthog-python client, a real SMTP
server and a real webhook receiver on loopback."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from posthog import Posthog
from standardwebhooks.webhooks import Webhook

from tests.live import API_KEY, TOKEN, WEBHOOK_SECRET, LiveServer, wait_for
from tests.receivers import SIGNING_SECRET, MailInbox, WebhookInbox, acting_server

PROJECT_FILE = """
triggers:
  power_user:
    when: {{event: feature_used}}
    nth: 5
    actions:
      - email:
          subject: "You're a power user, {{{{ person.properties.name }}}}"
          body: "You used features {{{{ count }}}} times."
      - webhook:
          url: {hook}
          secret_env: ACME_WEBHOOK_SECRET
sinks:
  training_data:
    when: {{event: generation_failed}}
    properties: [input_prompt, failure_reason]
    path: training_data.jsonl
"""


@dataclass
class Acting:
    server: LiveServer
    hooks: WebhookInbox
    mail: MailInbox

    def actions(self, user_id: str) -> dict[str, Any]:
        response = httpx.get(
            f"{self.server.url}/actions/user/{user_id}",
            headers={"Authorization": f"Bearer {API_KEY}"},
        )
        return dict(response.json()) if response.status_code == 200 else {}

    def statuses(self, user_id: str) -> list[str]:
        """Delivery statuses of the user's firings: [email, webhook] per firing."""
        firings = self.actions(user_id).get("firings", [])
        return [d["status"] for f in firings for d in f["deliveries"]]

    def delivered(self, user_id: str) -> list[str]:
        return [s for s in self.statuses(user_id) if s == "delivered"]

    def processed(self, user_id: str) -> int:
        """How many of the user's events the processor has stored."""
        response = httpx.get(
            f"{self.server.url}/context/user/{user_id}",
            params={"n": 200},
            headers={"Authorization": f"Bearer {API_KEY}"},
        )
        if response.status_code != 200:
            return 0
        return len(response.json()["recent_events"])

    def cli(self, *args: str) -> str:
        return self.server.cli(*args).stdout


wait_until = wait_for  # the condition reads better as a sentence here


@pytest.fixture
def acting(tmp_path: Path) -> Iterator[Acting]:
    # A send killed midway is taken over when its claim lapses: 2 x 2 s here, not 2 x 30 s.
    env = {"USERTRAIL_ACTION_MAX_ATTEMPTS": "3", "USERTRAIL_ACTION_SEND_TIMEOUT_S": "2"}
    with acting_server(tmp_path, PROJECT_FILE, **env) as parts:
        yield Acting(*parts)


def feature_used(distinct_id: str) -> dict[str, Any]:
    return {
        "event": "feature_used",
        "distinct_id": distinct_id,
        "uuid": str(uuid.uuid4()),
        "properties": {"feature_name": "export"},
    }


def send_batch(server: LiveServer, events: list[dict[str, Any]]) -> None:
    response = httpx.post(f"{server.url}/batch/", json={"api_key": TOKEN, "batch": events})
    assert response.status_code == 200, response.text


def test_the_fifth_feature_used_sends_one_email_and_one_signed_webhook(acting: Acting) -> None:
    client = Posthog(TOKEN, host=acting.server.url, sync_mode=True)
    client.set(distinct_id="user_42", properties={"email": "ada@example.com", "name": "Ada"})
    for _ in range(7):
        client.capture("feature_used", distinct_id="user_42", properties={"feature_name": "x"})

    wait_until(lambda: len(acting.delivered("user_42")) == 2)
    wait_until(lambda: acting.processed("user_42") == 7)  # the uses: a `$set` is no activity

    [email] = acting.mail.messages
    assert email["To"] == "ada@example.com"
    assert email["Subject"] == "You're a power user, Ada"
    [hook] = acting.hooks.requests
    payload = Webhook(SIGNING_SECRET).verify(hook.body, hook.headers)
    assert payload["trigger"] == "power_user"
    assert payload["threshold"] == 5
    assert payload["person"]["properties"]["email"] == "ada@example.com"
    [firing] = acting.actions("user_42")["firings"]
    assert hook.headers["webhook-id"] == firing["deliveries"][1]["key"]


def test_duplicates_and_concurrent_retries_still_fire_once(acting: Acting) -> None:
    batch = [feature_used("user_7") for _ in range(6)]
    threads = [threading.Thread(target=send_batch, args=(acting.server, batch)) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # user_7 never gave an email address: that email is dead at once, not retried.
    wait_until(lambda: acting.statuses("user_7") == ["dead", "delivered"])
    assert acting.processed("user_7") == 6
    assert len(acting.hooks.requests) == 1
    [firing] = acting.actions("user_7")["firings"]
    assert "no recipient" in firing["deliveries"][0]["last_error"]


def test_anonymous_uses_count_for_the_person_after_identify(acting: Acting) -> None:
    send_batch(acting.server, [feature_used("anon-9") for _ in range(3)])
    identify = {
        "event": "$identify",
        "distinct_id": "user_9",
        "properties": {"$anon_distinct_id": "anon-9", "$set": {"email": "nine@example.com"}},
    }
    send_batch(acting.server, [identify, *[feature_used("user_9") for _ in range(2)]])

    wait_until(lambda: len(acting.delivered("user_9")) == 2)
    [email] = acting.mail.messages
    assert email["To"] == "nine@example.com"


def test_a_kill_between_uses_does_not_fire_twice(acting: Acting) -> None:
    set_email = {"event": "$set", "distinct_id": "user_5", "$set": {"email": "five@example.com"}}
    send_batch(acting.server, [set_email, *[feature_used("user_5") for _ in range(5)]])
    acting.server.kill()  # possibly mid-processing, mid-delivery: SIGKILL, no shutdown
    acting.server.start()
    send_batch(acting.server, [feature_used("user_5") for _ in range(3)])

    wait_until(lambda: acting.processed("user_5") == 8)  # the uses: a `$set` is no activity
    # Killed mid-send, the delivery goes again once the dead sender's claim lapses (4 s).
    wait_until(lambda: len(acting.delivered("user_5")) == 2, timeout=30)
    assert len(acting.actions("user_5")["firings"]) == 1
    assert len({m["Message-ID"] for m in acting.mail.messages}) == 1  # resends share one id


def test_failed_deliveries_are_retried_then_listed_and_retryable(acting: Acting) -> None:
    acting.hooks.status = 500
    send_batch(acting.server, [feature_used("user_3") for _ in range(5)])

    def webhook_status() -> str:
        firings = acting.actions("user_3").get("firings", [])
        return str(firings[0]["deliveries"][1]["status"]) if firings else ""

    wait_until(lambda: webhook_status() == "dead")
    assert len(acting.hooks.requests) == 3  # USERTRAIL_ACTION_MAX_ATTEMPTS
    listing = acting.cli("actions", "list", "--failed")
    assert "power_user" in listing
    assert "dead" in listing
    assert "500" in listing

    acting.hooks.status = 200
    webhook_id = acting.actions("user_3")["firings"][0]["deliveries"][1]["id"]
    assert "1 dead deliveries queued again" in acting.cli("actions", "retry", str(webhook_id))
    wait_until(lambda: webhook_status() == "delivered")
    assert "webhook" not in acting.cli("actions", "list", "--failed")  # the email stays dead


def test_posthog_webhook_events_reach_triggers_and_the_redacted_training_sink(
    acting: Acting,
) -> None:
    def deliver(event: str, properties: dict[str, Any]) -> None:
        body = {
            "event": {
                "uuid": str(uuid.uuid4()),
                "event": event,
                "distinct_id": "user_w",
                "properties": properties,
                "timestamp": "2026-11-24T10:00:00.000Z",
            },
            "person": {"properties": {"email": "w@example.com"}},
        }
        response = httpx.post(
            f"{acting.server.url}/webhooks/posthog",
            json=body,
            headers={"Authorization": f"Bearer {WEBHOOK_SECRET}"},
        )
        assert response.status_code == 200

    prompt = "Summarise Q3 for ada@example.com, card 4111 1111 1111 1111"
    deliver("generation_failed", {"input_prompt": prompt, "failure_reason": "timeout"})
    for _ in range(5):
        deliver("feature_used", {})

    sink = acting.server.data_dir / "training_data.jsonl"
    wait_until(lambda: sink.is_file() and sink.read_bytes().endswith(b"\n"))
    [line] = sink.read_bytes().splitlines()
    record = orjson.loads(line)
    assert record["input_prompt"] == "Summarise Q3 for [email], card [card]"
    assert record["failure_reason"] == "timeout"
    assert {"uuid", "timestamp", "event", "distinct_id"} <= record.keys()
    wait_until(lambda: len(acting.hooks.requests) == 1)


def test_sink_lines_survive_kills_exactly_once(acting: Acting) -> None:
    sent: list[str] = []
    for round_ in range(3):
        batch = [
            {
                "event": "generation_failed",
                "distinct_id": f"user_{round_}",
                "uuid": str(uuid.uuid4()),
                "properties": {"input_prompt": f"p{i}", "failure_reason": "x"},
            }
            for i in range(200)
        ]
        send_batch(acting.server, batch)
        sent.extend(str(e["uuid"]) for e in batch)
        acting.server.kill()
        acting.server.start()

    sink = acting.server.data_dir / "training_data.jsonl"

    def lines() -> list[bytes]:
        return sink.read_bytes().splitlines() if sink.is_file() else []

    wait_until(lambda: len(lines()) >= len(sent))
    uuids = [orjson.loads(line)["uuid"] for line in lines()]
    assert sorted(uuids) == sorted(sent)  # every line whole, none lost, none twice
