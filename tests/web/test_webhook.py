"""PostHog's HTTP Webhook destination body, authenticated by the project's shared secret."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.live import WEBHOOK_SECRET, LiveServer
from tests.rawlog import raw_rows

DELIVERY = {
    "event": {
        "uuid": "0193a1b2-0000-7000-8000-000000000001",
        "event": "generation_failed",
        "distinct_id": "user_9",
        "properties": {"failure_reason": "timeout", "input_prompt": "summarise Q3"},
        "elements_chain": "",
        "timestamp": "2026-11-24T10:00:00.000Z",
        "url": "https://eu.posthog.com/events/x",
    },
    "person": {"id": "p-1", "properties": {"email": "a@example.com"}, "name": "A", "url": "x"},
}


def test_default_destination_body_is_stored(live_server: LiveServer) -> None:
    response = httpx.post(
        f"{live_server.url}/webhooks/posthog",
        json=DELIVERY,
        headers={"Authorization": f"Bearer {WEBHOOK_SECRET}"},
    )
    assert response.status_code == 200
    [row] = raw_rows(live_server.db_path)
    assert (row["event"], row["distinct_id"], row["source"]) == (
        "generation_failed",
        "user_9",
        "webhook",
    )
    assert row["uuid"] == DELIVERY["event"]["uuid"]


def test_older_name_spelling_and_arrays_are_accepted(live_server: LiveServer) -> None:
    old = {"event": {"name": "plan_selected", "distinct_id": "u"}, "person": {"uuid": "p"}}
    response = httpx.post(
        f"{live_server.url}/webhooks/posthog",
        json=[old, DELIVERY],
        headers={"X-Usertrail-Secret": WEBHOOK_SECRET},
    )
    assert response.json()["accepted"] == 2
    assert {r["event"] for r in raw_rows(live_server.db_path)} == {
        "plan_selected",
        "generation_failed",
    }


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"X-Usertrail-Secret": ""}],
    ids=["missing", "wrong", "empty"],
)
def test_missing_or_wrong_secret_is_401(live_server: LiveServer, headers: dict[str, Any]) -> None:
    response = httpx.post(f"{live_server.url}/webhooks/posthog", json=DELIVERY, headers=headers)
    assert response.status_code == 401
    assert raw_rows(live_server.db_path) == []
