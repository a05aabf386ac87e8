"""One Notifier for the dispatcher: each message goes to the adapter for its kind."""

from __future__ import annotations

from usertrail.adapters.smtp import SmtpNotifier
from usertrail.adapters.webhook import WebhookNotifier
from usertrail.model.actions import EmailMessage, Message, WebhookMessage


class RoutingNotifier:
    def __init__(self, webhook: WebhookNotifier, email: SmtpNotifier) -> None:
        self._webhook = webhook
        self._email = email

    async def send(self, key: str, message: Message) -> None:
        match message:
            case WebhookMessage():
                await self._webhook.send(key, message)
            case EmailMessage():
                await self._email.send(key, message)

    async def aclose(self) -> None:
        await self._webhook.aclose()
        await self._email.aclose()
