"""A person as the read side sees it: every distinct id merged into one key."""

from __future__ import annotations

from datetime import datetime

import msgspec


class PersonRef(msgspec.Struct, frozen=True, kw_only=True):
    project_id: str
    key: str
    distinct_ids: tuple[str, ...]
    first_seen: datetime
    last_seen: datetime
