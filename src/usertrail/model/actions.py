"""What triggers and sinks produce: messages to deliver and lines to append.

A firing is recorded (with its deliveries) in the same transaction that counts the event, so it
happens exactly once; each delivery then goes out at least once, carrying its idempotency key
(`webhook-id` header, email `Message-ID`) so the receiver can drop a repeat.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

import msgspec


class WebhookMessage(msgspec.Struct, frozen=True, kw_only=True, tag="webhook"):
    url: str
    body: dict[str, Any]
    # Name of the environment variable holding the Standard Webhooks secret (`whsec_…`), so
    # secrets live in the deployment's environment, never in the database or project file.
    secret_env: str | None = None


class EmailMessage(msgspec.Struct, frozen=True, kw_only=True, tag="email"):
    to: str
    subject: str
    text: str


Message = WebhookMessage | EmailMessage

PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"


def wire_key(key: str) -> str:
    """The idempotency key as a header carries it: percent-encoded UTF-8, so plain ASCII.

    The key holds a distinct id, which may be any Unicode (`josé`), and HTTP clients refuse a
    header value that is not ASCII: every retry of the delivery died the same way. Keys of
    ASCII ids without reserved characters are unchanged, so receivers see the same ids."""
    return quote(key, safe=":@")


class Delivery(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    project_id: str
    key: str  # idempotency key: one firing, one action
    trigger: str
    threshold: int
    anchor_id: str
    kind: str  # webhook | email
    message: Message | None  # None only for a dead delivery whose template failed
    status: str  # pending | delivered | dead
    attempts: int
    created: datetime
    next_attempt: datetime
    last_error: str | None = None


class RenderedAction(msgspec.Struct, frozen=True, kw_only=True):
    kind: str  # webhook | email
    message: Message | None
    error: str | None = None  # set when it can never be delivered (bad template, no address)


class NewFiring(msgspec.Struct, frozen=True, kw_only=True):
    """A trigger reaching a threshold for a person, with what each of its actions sends."""

    project_id: str
    trigger: str
    threshold: int
    anchor_id: str  # the person key when it fired; any id of the same person later matches
    event_uuid: str
    fired_at: datetime
    actions: tuple[RenderedAction, ...]

    def key(self, action_index: int) -> str:
        return f"{self.project_id}:{self.trigger}:{self.threshold}:{self.anchor_id}:{action_index}"


class SinkRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One line bound for a sink file; `line` is None when redaction failed (dropped, counted)."""

    project_id: str
    sink: str
    uuid: str
    distinct_id: str
    path: str  # as the project file names it; relative paths are under the data directory
    line: bytes | None


class PendingLine(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    path: str
    uuid: str
    line: bytes


class Firing(msgspec.Struct, frozen=True, kw_only=True):
    trigger: str
    threshold: int
    anchor_id: str
    event_uuid: str
    count: int
    fired_at: datetime
    deliveries: tuple[Delivery, ...]


class SinkStatus(msgspec.Struct, frozen=True, kw_only=True):
    sink: str
    uuid: str
    status: str  # pending | written | dropped


class PersonActions(msgspec.Struct, frozen=True, kw_only=True):
    """What behaviour made usertrail do for one person: firings with deliveries, sink lines."""

    person_key: str
    firings: tuple[Firing, ...]
    sink_records: tuple[SinkStatus, ...]
