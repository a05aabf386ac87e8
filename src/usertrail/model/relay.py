"""The relay to PostHog: what it could not deliver, and what PostHog answered."""

from __future__ import annotations

from datetime import datetime

import msgspec


class DeadLetter(msgspec.Struct, frozen=True, kw_only=True):
    """An event PostHog refused for good, with its answer."""

    project_id: str
    uuid: str
    seq: int
    reason: str
    dead_at: datetime


class UpstreamAnswer(msgspec.Struct, frozen=True, kw_only=True):
    status: int
    text: str = ""
    retry_after: str | None = None
