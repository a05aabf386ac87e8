"""What ingest stores: one event as received (after decoding), plus its envelope."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec


class RawEvent(msgspec.Struct, frozen=True, kw_only=True, gc=False):  # see model.event
    """An accepted event, exactly as the SDK or webhook sent it, with what ingest learned.

    `body` is the event object as decoded (unknown keys kept); everything else is derived
    from the request at the edge and is enough to rebuild all later state (`usertrail replay`).
    """

    project_id: str
    uuid: str
    event: str
    distinct_id: str
    timestamp: datetime  # skew-corrected, aware UTC: the ordering key downstream
    received_at: datetime  # aware UTC, when the server read the request
    source: str  # "capture" | "webhook" | "backfill"
    body: dict[str, Any]
    ip: str | None = None


class LoggedEvent(msgspec.Struct, frozen=True, kw_only=True, gc=False):  # see model.event
    """A raw event read back from the log, with its position (for processor cursors)."""

    seq: int
    raw: RawEvent
