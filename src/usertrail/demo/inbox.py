"""The demo's webhook inbox: the last webhooks the `power_user` trigger sent, kept in memory."""

from __future__ import annotations

from collections import deque
from datetime import datetime
from typing import Any, Literal

import msgspec

KEPT = 50
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
