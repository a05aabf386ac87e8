"""Synthetic but realistic traffic: pageviews, Tailwind click chains, features, errors, logins."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from usertrail.model.raw import RawEvent

T0 = datetime(2026, 11, 1, tzinfo=UTC)
PAGES = ["/", "/dashboard", "/reports", "/reports/42", "/settings/billing", "/settings"]
CHAINS = [
    'button.btn.hover:bg-indigo-600.md:px-4:text="Upgrade to Pro"nth-child="2"nth-of-type="1"'
    'attr__data-attr="upgrade";div.plan-card.md:flex:attr__data-ph-component="plan-picker";'
    'main:attr__id="content";body',
    'a.text-sm.hover:underline:text="Reports"href="/reports";nav.sidebar;body',
    'button.inline-flex.focus:ring-2:text="Export CSV"attr__data-attr="export";'
    'div.toolbar:attr__aria-label="Report toolbar";main;body',
]


def _event(name: str, distinct_id: str, at: datetime, props: dict[str, Any]) -> dict[str, Any]:
    return {
        "event": name,
        "distinct_id": distinct_id,
        "uuid": str(uuid.uuid4()),
        "timestamp": at.isoformat(),
        "properties": props,
    }


def event_bodies(n_events: int, n_persons: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """Capture-shaped event bodies, in time order, spread over persons and sessions."""
    rnd = random.Random(seed)
    for i in range(n_events):
        person = rnd.randrange(n_persons)
        at = T0 + timedelta(seconds=i * 3)
        url = "https://app.acme.test" + rnd.choice(PAGES)
        props = {
            "$current_url": url,
            "$session_id": f"s-{person}-{i // 400}",
            "$browser": "Chrome",
            "$os": "Mac OS X",
            "$device_type": "Desktop",
        }
        roll = rnd.random()
        if roll < 0.4:
            yield _event("$pageview", f"u{person}", at, props)
        elif roll < 0.8:
            chain = rnd.choice(CHAINS)
            yield _event(
                "$autocapture",
                f"u{person}",
                at,
                {**props, "$event_type": "click", "$elements_chain": chain},
            )
        elif roll < 0.95:
            yield _event(
                "feature_used", f"u{person}", at, {"feature": rnd.choice(["Export", "Share"])}
            )
        else:
            yield _event("generation_failed", f"u{person}", at, {"failure_reason": "timeout"})


def raw_event(project_id: str, body: dict[str, Any], received_at: datetime) -> RawEvent:
    """A capture-shaped body as ingest would store it."""
    return RawEvent(
        project_id=project_id,
        uuid=body["uuid"],
        event=body["event"],
        distinct_id=body["distinct_id"],
        timestamp=datetime.fromisoformat(body["timestamp"]),
        received_at=received_at,
        source="capture",
        body=body,
    )


def raw_events(project_id: str, n_events: int, n_persons: int) -> list[RawEvent]:
    now = datetime.now(UTC)
    return [raw_event(project_id, b, now) for b in event_bodies(n_events, n_persons)]
