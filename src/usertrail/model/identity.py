"""Identity vocabulary: merge edges between distinct ids, and person property updates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec


class MergeEdge(msgspec.Struct, frozen=True, kw_only=True):
    """`other_id` joins the person of `distinct_id` (identify, alias or merge_dangerously)."""

    uuid: str
    timestamp: datetime
    kind: str  # identify | alias | merge_dangerously
    distinct_id: str
    other_id: str


class PersonUpdate(msgspec.Struct, frozen=True, kw_only=True):
    uuid: str
    timestamp: datetime
    set: dict[str, Any] = msgspec.field(default_factory=dict)
    set_once: dict[str, Any] = msgspec.field(default_factory=dict)
    unset: tuple[str, ...] = ()
