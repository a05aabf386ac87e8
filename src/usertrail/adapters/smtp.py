"""Email actions over SMTP (aiosmtplib). Mailgun, SendGrid and most providers accept SMTP.

The Message-ID is derived from the delivery's idempotency key, so a resend after a crash
carries the same id and mail systems can drop it as a duplicate.
"""

from __future__ import annotations

import hashlib
from email.message import EmailMessage as MimeMessage
from email.utils import formatdate

import aiosmtplib
import msgspec

from usertrail.model.actions import EmailMessage, Message, wire_key
from usertrail.ports import DeliveryFailed


class SmtpConfig(msgspec.Struct, frozen=True, kw_only=True):
    host: str | None
    port: int = 587
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    use_tls: bool = False
    sender: str = "usertrail <usertrail@localhost>"
    timeout_s: float = 30.0


def mime_message(key: str, message: EmailMessage, sender: str) -> MimeMessage:
    mime = MimeMessage()
    mime["From"] = sender
    mime["To"] = message.to
    mime["Subject"] = message.subject
    mime["Date"] = formatdate(usegmt=True)
    mime["Message-ID"] = f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@usertrail>"
    mime["X-Usertrail-Idempotency-Key"] = wire_key(key)
    mime.set_content(message.text)
    return mime


class SmtpNotifier:
    def __init__(self, config: SmtpConfig) -> None:
        self._config = config

    async def send(self, key: str, message: Message) -> None:
        assert isinstance(message, EmailMessage)
        config = self._config
        if config.host is None:
            # Retrying cannot help until the deployment changes: dead now, retried by hand.
            raise DeliveryFailed("SMTP is not configured (USERTRAIL_SMTP_HOST)", permanent=True)
        try:
            await aiosmtplib.send(
                mime_message(key, message, config.sender),
                hostname=config.host,
                port=config.port,
                username=config.username,
                password=config.password,
                start_tls=config.starttls,
                use_tls=config.use_tls,
                timeout=config.timeout_s,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise DeliveryFailed(f"recipient refused: {exc}", permanent=True) from exc
        except aiosmtplib.SMTPResponseException as exc:
            reason = f"SMTP {exc.code}: {exc.message}"
            raise DeliveryFailed(reason, permanent=exc.code >= 500) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc

    async def aclose(self) -> None:
        pass  # one connection per message: nothing held open
