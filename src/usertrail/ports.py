"""The roles the services talk to. Adapters implement them; wiring picks one per role.

Semantics, stated once:
- EventLog.append is durable when it returns: each event is either newly stored or was already
  there (same project and uuid). It never stores an event twice.
- EventLog.read_after returns events in log order (`seq` ascending), for processor cursors.
- EventLog.as_logged gives each event as the log holds it: the copy stored first under its
  uuid. A retry's copy differs (its receipt time, and so its skew-corrected timestamp), and
  derived state is a function of the log, so only the log's copy may be processed.
- EventBus.publish carries each event as the log holds it, down to the order of its body's
  keys (sorted, as the log's canonical JSON has them): derivation reads that order.
"""

from __future__ import annotations

from collections.abc import Awaitable, Collection, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

import msgspec

from usertrail.model.actions import Message, PersonActions
from usertrail.model.event import Event
from usertrail.model.person import PersonData
from usertrail.model.project import Project
from usertrail.model.raw import LoggedEvent, RawEvent
from usertrail.model.relay import DeadLetter, Proxied, RelaySummary
from usertrail.model.timeline import ActivePerson

if TYPE_CHECKING:
    from usertrail.core.process import Derived


class AppendResult(msgspec.Struct, frozen=True, kw_only=True):
    accepted: int  # newly stored
    duplicates: int  # already in the log (same project and uuid)


class EventLog(Protocol):
    async def append(self, events: Sequence[RawEvent]) -> AppendResult: ...

    async def read_after(self, seq: int, limit: int) -> list[LoggedEvent]: ...

    async def as_logged(self, events: Sequence[RawEvent]) -> list[RawEvent]: ...

    async def count(self, project_id: str) -> int: ...


class BusMessage(msgspec.Struct, frozen=True, kw_only=True):
    """One event read from the bus; `stream` and `id` are what acknowledges it."""

    stream: str
    id: str
    event: RawEvent
    deliveries: int  # how many times it has been handed to a worker, this one included


class EventBus(Protocol):
    """Carries accepted events from ingest to workers (scale-out mode).

    publish: durable in the bus when it returns. consume: each entry goes to one consumer of
    the group. ack: after the derived state is committed; entries never acked are handed to
    another consumer by `reclaim` once idle, and dead-lettered after too many deliveries.
    """

    async def publish(self, events: Sequence[RawEvent]) -> None: ...

    async def consume(self, consumer: str, count: int, block_ms: int) -> list[BusMessage]: ...

    async def reclaim(self, consumer: str, min_idle_ms: int, count: int) -> list[BusMessage]: ...

    async def ack(self, messages: Sequence[BusMessage]) -> None: ...

    async def trim(self) -> None:
        """Forget acknowledged entries."""

    async def backlog(self) -> int:
        """Entries not acknowledged yet (read or not)."""
        ...

    async def dead_uuids(self) -> set[tuple[str, str]]:
        """(project id, uuid) of every dead-lettered event: poison, never published again."""
        ...


class DerivedStore(Protocol):
    """Derived state. `apply` stores a processed slice and moves the named cursor (if any)
    atomically, and returns the events that were new (not already stored). Applying the same
    slice again, or slices in another order, converges to the same state. With `after` (the
    slice before it being applied), it prepares the slice at once but writes it only once
    `after` has committed, and not at all if `after` failed: a cursor never passes a slice
    that was not stored."""

    async def apply(
        self, derived: Derived, cursor: str | None, after: Awaitable[object] | None = None
    ) -> list[Event]: ...

    async def cursor(self, name: str) -> int: ...

    async def dead_letter(self, event: LoggedEvent, error: str, cursor: str, at: datetime) -> None:
        """Record an event that cannot be stored even alone, and move `cursor` past it."""


class ProjectRegistry(Protocol):
    async def by_token(self, token: str) -> Project | None: ...

    async def by_api_key(self, api_key: str) -> Project | None: ...

    async def by_id(self, project_id: str) -> Project | None: ...

    async def by_webhook_secret(self, secret: str) -> Project | None:
        """Constant-time per project: timing must not reveal a secret's prefix."""
        ...


class DeliveryFailed(Exception):
    """A delivery attempt failed; `permanent` ones (4xx, bad address) are not retried."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class Notifier(Protocol):
    """Sends one action message. Returns when the receiver accepted it; raises DeliveryFailed.
    `key` is the idempotency key: the same key may be sent more than once (at-least-once)."""

    async def send(self, key: str, message: Message) -> None: ...


class SinkFile(Protocol):
    """An append-only file of JSON lines. `append` is durable when it returns, and a crash
    mid-append never leaves a torn line behind (a partial last line is cut on open)."""

    def append(self, lines: Sequence[bytes]) -> None: ...

    def last_line(self) -> bytes | None: ...

    def remove(self, uuids: Collection[str]) -> int:
        """Cut these events' lines from the file and from the files it was rotated into,
        atomically per file (an erased person's lines); returns how many were cut."""
        ...


# --- what the front ends (web/, the MCP server) read besides the services -----------------


class ActionLog(Protocol):
    async def person_actions(self, project_id: str, distinct_id: str) -> PersonActions | None:
        """A person's trigger firings and sink lines; None when no such person."""
        ...


class Browse(Protocol):
    async def active(self, project_id: str, since: datetime, limit: int) -> list[ActivePerson]:
        """Persons with an event since `since`, most recent first, with their last event."""
        ...

    async def raw_event(self, project_id: str, uuid: str) -> RawEvent | None: ...


class PersonReads(Protocol):
    async def person_data(
        self, project_id: str, distinct_id: str, limit: int
    ) -> PersonData | None: ...

    async def active_persons(
        self, project_id: str, since: datetime, limit: int
    ) -> list[tuple[str, datetime]]: ...


class RelayLog(Protocol):
    async def summary(self, project_id: str) -> RelaySummary: ...

    async def dead_letters(self, project_id: str, limit: int = 20) -> list[DeadLetter]: ...


class Proxy(Protocol):
    """Forwards one request to PostHog; raises UpstreamUnreachable when it cannot."""

    async def forward(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> Proxied: ...
