"""What ingest stores: one event as received (after decoding), plus its envelope."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
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

    @property
    def properties(self) -> Mapping[str, Any]:
        """The event's `properties` object, read-only; empty when the SDK sent none (or not
        an object). The one accessor every stage reads them through."""
        props = self.body.get("properties")
        return props if isinstance(props, dict) else _NONE


_NONE: Mapping[str, Any] = MappingProxyType({})


class LoggedEvent(msgspec.Struct, frozen=True, kw_only=True, gc=False):  # see model.event
    """A raw event read back from the log, with its position (for processor cursors)."""

    seq: int
    raw: RawEvent
