"""The demo's webhook inbox: the last webhooks the `power_user` trigger sent, kept in memory,
each shown only to the visitors whose browser follows the person it is about (`Visitors`)."""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal

import msgspec

KEPT = 500  # across every visitor
VISITORS_KEPT = 10_000
IDS_PER_VISITOR = 20
Signature = Literal["verified", "unsigned"]


class ReceivedWebhook(msgspec.Struct, frozen=True, kw_only=True):
    id: str  # the `webhook-id` header: the delivery's idempotency key
    received_at: datetime
    signature: Signature  # verified with ACME_WEBHOOK_SECRET, or accepted unsigned without it
    body: Any
    repeat: bool = False  # the same webhook-id came before (at-least-once delivery)


class WebhookInbox:
    def __init__(self, size: int = KEPT) -> None:
        self._received: deque[ReceivedWebhook] = deque(maxlen=size)

    def add(self, webhook_id: str, at: datetime, signature: Signature, body: Any) -> None:
        repeat = any(r.id == webhook_id for r in self._received)
        self._received.append(
            ReceivedWebhook(
                id=webhook_id, received_at=at, signature=signature, body=body, repeat=repeat
            )
        )

    def newest_first(self) -> list[ReceivedWebhook]:
        return list(reversed(self._received))

    def about(self, distinct_ids: frozenset[str]) -> list[ReceivedWebhook]:
        """Newest first, the webhooks about a person holding any of `distinct_ids`."""
        return [r for r in self.newest_first() if distinct_ids & _ids_in(r.body)]


def _ids_in(body: Any) -> frozenset[str]:
    """The person's ids a trigger's webhook names (core.triggers: person.id, its
    distinct_ids, and the event's distinct_id)."""
    if not isinstance(body, dict):
        return frozenset()
    person, event = _dict(body.get("person")), _dict(body.get("event"))
    ids = [person.get("id"), event.get("distinct_id"), *_list(person.get("distinct_ids"))]
    return frozenset(i for i in ids if isinstance(i, str))


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> Iterable[Any]:
    return value if isinstance(value, list) else ()


class Visitors:
    """Which distinct ids each demo visitor's browser has followed (by its visitor cookie),
    so each sees its own webhooks. Bounded: the oldest visitors and ids are forgotten."""

    def __init__(self, size: int = VISITORS_KEPT, ids: int = IDS_PER_VISITOR) -> None:
        self._seen: OrderedDict[str, dict[str, None]] = OrderedDict()
        self._size, self._ids = size, ids

    def follows(self, visitor: str, distinct_id: str) -> None:
        ids = self._seen.pop(visitor, {})
        ids.pop(distinct_id, None)
        ids[distinct_id] = None
        while len(ids) > self._ids:
            del ids[next(iter(ids))]
        self._seen[visitor] = ids
        while len(self._seen) > self._size:
            self._seen.popitem(last=False)

    def ids_of(self, visitor: str | None) -> frozenset[str]:
        return frozenset(self._seen.get(visitor, {})) if visitor else frozenset()
