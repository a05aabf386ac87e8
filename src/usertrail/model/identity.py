"""Identity vocabulary: merge edges between distinct ids, and person property updates."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeAlias

import msgspec

# Within one event PostHog applies `$set_once`, then `$set`, then `$unset`; a write's `op` is
# its place in that order, so (timestamp, uuid, op) puts every write in one canonical order.
SET_ONCE = 0
SET = 1
UNSET = 2


class MergeEdge(msgspec.Struct, frozen=True, kw_only=True):
    """`other_id` joins the person of `distinct_id` (identify, alias or merge_dangerously)."""

    uuid: str
    timestamp: datetime
    kind: str  # identify | alias | merge_dangerously
    distinct_id: str
    other_id: str


class PersonUpdate(msgspec.Struct, frozen=True, kw_only=True):
    """The `$set` / `$set_once` / `$unset` one event carries for its distinct id."""

    uuid: str
    timestamp: datetime
    set: dict[str, Any] = msgspec.field(default_factory=dict)
    set_once: dict[str, Any] = msgspec.field(default_factory=dict)
    unset: tuple[str, ...] = ()


class PropWrite(msgspec.Struct, frozen=True, kw_only=True):
    """One write to one person property, placed in canonical order by (timestamp, uuid, op)."""

    timestamp: datetime
    uuid: str
    op: int  # SET_ONCE | SET | UNSET
    value: Any = None


class PropState(msgspec.Struct, frozen=True, kw_only=True):
    """What one property's history reduces to: enough to merge with any other history.

    Each field is a max or a min over writes, so merging two states is commutative,
    associative and idempotent: state can be kept incrementally, in any order, with retries.
    """

    last_write: PropWrite | None = None  # latest `$set` or `$unset`
    first_once: PropWrite | None = None  # earliest `$set_once`
    last_once: PropWrite | None = None  # latest `$set_once`


PropsState: TypeAlias = dict[str, PropState]  # property key -> its reduced history
