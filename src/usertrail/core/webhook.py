"""PostHog's HTTP Webhook destination -> raw events.

The destination's default body is `{"event": {...}, "person": {...}}` with `event.event`,
`event.distinct_id`, `event.properties`, `event.uuid`, `event.timestamp`, `event.elements_chain`.
Older templates spell the name `event.name` and the person id `person.uuid`; some deliver arrays.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from usertrail.core.envelope import to_raw_event
from usertrail.errors import BadPayload
from usertrail.model.raw import RawEvent

MAX_WEBHOOK_EVENTS = 1000


def webhook_events(payload: Any, *, project_id: str, now: datetime) -> list[RawEvent]:
    items = payload if isinstance(payload, list) else [payload]
    if len(items) > MAX_WEBHOOK_EVENTS:
        raise BadPayload(
            f"{len(items)} webhook events in one request; the limit is {MAX_WEBHOOK_EVENTS}"
        )
    return [
        to_raw_event(
            capture_shape(item), project_id=project_id, sent_at=None, now=now, source="webhook"
        )
        for item in items
    ]


def capture_shape(item: Any) -> dict[str, Any]:
    """Rewrite one webhook delivery into the capture event shape the rest of usertrail reads."""
    if not isinstance(item, dict) or not isinstance(item.get("event"), dict):
        raise BadPayload("webhook body must be {'event': {...}, 'person': {...}}")
    event: dict[str, Any] = dict(item["event"])
    if "event" not in event and isinstance(event.get("name"), str):
        event["event"] = event["name"]
    props = event.get("properties")
    props = dict(props) if isinstance(props, dict) else {}
    chain = event.get("elements_chain")
    if isinstance(chain, str) and chain and "$elements_chain" not in props:
        props["$elements_chain"] = chain
    person = item.get("person")
    if isinstance(person, dict):
        person_props = person.get("properties")
        if isinstance(person_props, dict) and person_props and "$set" not in props:
            # The destination sends the person's current properties: keep them as a $set.
            props["$set"] = person_props
    event["properties"] = props
    return event
