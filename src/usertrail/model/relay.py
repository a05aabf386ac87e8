"""The relay to PostHog: what it could not deliver, and what PostHog answered."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec


class DeadLetter(msgspec.Struct, frozen=True, kw_only=True):
    """An event PostHog refused for good, with its answer."""

    project_id: str
    uuid: str
    seq: int
    reason: str
    dead_at: datetime


class RelaySummary(msgspec.Struct, frozen=True, kw_only=True):
    backlog: int  # captured events not yet sent
    oldest_waiting: datetime | None  # when the oldest of them was received
    dead_letters: int


class UpstreamAnswer(msgspec.Struct, frozen=True, kw_only=True):
    status: int
    text: str = ""
    retry_after: str | None = None


@dataclass(frozen=True)
class Proxied:
    """PostHog's answer to a proxied request, its body still to be streamed."""

    status: int
    headers: list[tuple[str, str]]
    body: Callable[[], AsyncIterator[bytes]]  # the raw (still encoded) bytes
    close: Callable[[], Awaitable[None]]


class QueryAnswer(msgspec.Struct, frozen=True, kw_only=True):
    """A page of PostHog's query API answer."""

    columns: list[str]
    results: list[list[Any]]
