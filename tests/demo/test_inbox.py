"""The demo's webhook inbox shows each visitor the webhooks about the persons it follows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from usertrail.demo.inbox import Visitors, WebhookInbox

AT = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def fired(person: str, *distinct_ids: str) -> dict[str, Any]:
    return {"trigger": "power_user", "person": {"id": person, "distinct_ids": list(distinct_ids)}}


def test_a_visitor_sees_only_webhooks_about_the_persons_it_follows() -> None:
    inbox, visitors = WebhookInbox(), Visitors()
    inbox.add("w1", AT, "unsigned", fired("user_jane", "anon-1", "user_jane"))
    inbox.add("w2", AT, "unsigned", fired("user_bob", "anon-2", "user_bob"))
    visitors.follows("visitor-a", "anon-1")  # before logging in: the anonymous id
    visitors.follows("visitor-b", "user_bob")
    assert [r.id for r in inbox.about(visitors.ids_of("visitor-a"))] == ["w1"]
    assert [r.id for r in inbox.about(visitors.ids_of("visitor-b"))] == ["w2"]
    assert inbox.about(visitors.ids_of("visitor-c")) == []
    assert inbox.about(visitors.ids_of(None)) == []


def test_a_webhook_naming_only_the_person_id_reaches_its_follower() -> None:
    inbox, visitors = WebhookInbox(), Visitors()
    inbox.add("w1", AT, "verified", {"person": {"id": "u1"}})
    inbox.add("w2", AT, "verified", ["not", "an", "object"])
    visitors.follows("v", "u1")
    assert [r.id for r in inbox.about(visitors.ids_of("v"))] == ["w1"]


def test_visitors_forget_the_oldest_visitor_and_the_oldest_ids() -> None:
    visitors = Visitors(size=2, ids=2)
    for visitor in ("a", "b", "c"):
        visitors.follows(visitor, f"id-{visitor}")
    assert visitors.ids_of("a") == frozenset()
    for distinct_id in ("x", "y", "z"):
        visitors.follows("c", distinct_id)
    assert visitors.ids_of("c") == {"y", "z"}
