"""Keyword factories with defaults, for building realistic events in tests."""

from __future__ import annotations

import uuid as uuidlib
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from usertrail.core.normalize import normalize
from usertrail.model.config import ProjectConfig
from usertrail.model.event import Event
from usertrail.model.raw import RawEvent

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
APP = "https://app.acme.test"


def make_raw(
    event: str = "$pageview",
    *,
    distinct_id: str = "user_1",
    at: float = 0,
    uuid: str | None = None,
    project_id: str = "p1",
    properties: dict[str, Any] | None = None,
    body: dict[str, Any] | None = None,
) -> RawEvent:
    """`at` is seconds after T0."""
    ts = T0 + timedelta(seconds=at)
    return RawEvent(
        project_id=project_id,
        uuid=uuid or str(uuidlib.uuid4()),
        event=event,
        distinct_id=distinct_id,
        timestamp=ts,
        received_at=ts,
        source="capture",
        body={
            "event": event,
            "distinct_id": distinct_id,
            "properties": properties or {},
            **(body or {}),
        },
    )


def pageview(path: str, **kw: Any) -> RawEvent:
    props = {"$current_url": APP + path, **kw.pop("properties", {})}
    return make_raw("$pageview", properties=props, **kw)


def click(path: str, chain: str, **kw: Any) -> RawEvent:
    props = {
        "$current_url": APP + path,
        "$event_type": "click",
        "$elements_chain": chain,
        **kw.pop("properties", {}),
    }
    return make_raw("$autocapture", properties=props, **kw)


_RAW_KEYWORDS = frozenset(
    ("event", "distinct_id", "at", "uuid", "project_id", "properties", "body")
)


def make_event(
    raw: RawEvent | None = None, config: ProjectConfig | None = None, **kw: Any
) -> Event:
    """`raw` (or `make_raw(**kw)`) normalized; other keywords (`session_id`, `page`, `device`...)
    then override the Event's fields, e.g. `make_event(at=60, session_id="s1", page="Billing")`."""
    raw_kw = {k: v for k, v in kw.items() if k in _RAW_KEYWORDS}
    overrides = {k: v for k, v in kw.items() if k not in _RAW_KEYWORDS}
    event = normalize(raw or make_raw(**raw_kw), config or ProjectConfig())
    return msgspec.structs.replace(event, **overrides) if overrides else event
