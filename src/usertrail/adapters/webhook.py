"""Webhook actions: JSON POSTs signed the Standard Webhooks way (webhook-id/-timestamp/-signature).

`webhook-id` is the delivery's idempotency key, so a receiver can drop the repeat that
at-least-once delivery may send after a crash.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import httpx
import orjson
from standardwebhooks.webhooks import Webhook

from usertrail.model.actions import Message, WebhookMessage, wire_key
from usertrail.ports import DeliveryFailed

# Statuses worth trying again: the receiver is busy, rate-limiting or not ready yet.
_RETRYABLE_4XX = frozenset((408, 409, 425, 429))


class WebhookNotifier:
    def __init__(self, env: Mapping[str, str], timeout_s: float = 10.0) -> None:
        self._env = env
        self._client = httpx.AsyncClient(timeout=timeout_s, follow_redirects=False)

    async def send(self, key: str, message: Message) -> None:
        assert isinstance(message, WebhookMessage)
        body = orjson.dumps(message.body)
        headers = self._headers(key, message, body)
        try:
            response = await self._client.post(message.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
        if response.is_success:
            return
        status = response.status_code
        permanent = 400 <= status < 500 and status not in _RETRYABLE_4XX
        excerpt = response.text[:200]
        raise DeliveryFailed(f"HTTP {status}: {excerpt}", permanent=permanent)

    def _headers(self, key: str, message: WebhookMessage, body: bytes) -> dict[str, str]:
        now, key = datetime.now(UTC), wire_key(key)
        headers = {
            "content-type": "application/json",
            "webhook-id": key,
            "webhook-timestamp": str(int(now.timestamp())),
        }
        if message.secret_env:
            secret = self._env.get(message.secret_env)
            if not secret:
                raise DeliveryFailed(f"signing secret ${message.secret_env} is not set")
            signature = Webhook(secret).sign(key, now, body.decode())
            headers["webhook-signature"] = signature
        return headers

    async def aclose(self) -> None:
        await self._client.aclose()
