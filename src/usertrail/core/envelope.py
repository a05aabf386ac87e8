"""Checked capture events -> RawEvent: distinct id, dedupe uuid and corrected timestamp."""

from __future__ import annotations

import functools
import ipaddress
import re
import uuid as uuidlib
from datetime import datetime
from typing import Any

import msgspec
import orjson

from usertrail.core.capture import CaptureBatch
from usertrail.core.ids import ID_RULE, id_problem
from usertrail.core.relay import HISTORICAL_KEY
from usertrail.core.timestamps import corrected_timestamp
from usertrail.errors import BadPayload, PayloadTooLarge
from usertrail.model.raw import RawEvent

MAX_EVENT_BYTES = 1024 * 1024  # PostHog's per-event limit
MAX_NAME_CHARS = 200  # PostHog truncates event names here (ids are refused instead: core.ids)
_DERIVED_NAMESPACE = uuidlib.UUID("6b1a3f0e-5d1c-4c8e-9a57-1f0e4a2b7c10")
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def to_raw_events(
    batch: CaptureBatch,
    *,
    project_id: str,
    now: datetime,
    source: str,
    ip: str | None = None,
) -> list[RawEvent]:
    ip = client_ip(ip)  # checked once: a request's events share it
    events = [
        to_raw_event(e, project_id=project_id, sent_at=batch.sent_at, now=now, source=source, ip=ip)
        for e in batch.events
    ]
    if batch.historical_migration:
        # The envelope's flag, kept with each event for the relay (core.relay); after the
        # uuid was derived, so a retry without the flag still deduplicates.
        events = [msgspec.structs.replace(e, body={**e.body, HISTORICAL_KEY: True}) for e in events]
    return events


def to_raw_event(
    event: dict[str, Any],
    *,
    project_id: str,
    sent_at: datetime | None,
    now: datetime,
    source: str,
    ip: str | None = None,
) -> RawEvent:
    """One event; `ip` as client_ip kept it (to_raw_events, the one way an ip comes in)."""
    name, distinct_id = event_identity(event)
    return RawEvent(
        project_id=project_id,
        uuid=event_uuid(event),
        event=stored_name(name),
        distinct_id=distinct_id,
        timestamp=corrected_timestamp(event, sent_at=sent_at, now=now),
        received_at=now,
        source=source,
        body=event,
        ip=ip,
    )


def event_identity(event: dict[str, Any]) -> tuple[str, str]:
    """The event's name and distinct id as capture takes them; BadPayload saying which is
    missing, or how the id breaks the id rule (core.ids)."""
    name = event.get("event")
    if not isinstance(name, str) or not name:
        raise BadPayload("event has no 'event' name")
    distinct_id = find_distinct_id(event)
    if distinct_id is None:
        raise BadPayload(f"event {name[:40]!r} has no distinct_id")
    return name, distinct_id


REMEMBERED_IP_CHARS = 64  # longer than any address with a sane zone: parsed each time


def client_ip(text: str | None) -> str | None:
    """The client's address as stored, or None when it is none: from the peer, or from
    X-Forwarded-For as the server trusts it (any text a proxy passed on). An IPv6 zone is
    dropped (it names the server's own link), so what is kept is short ASCII (at most 45
    characters), and every backend stores the same: PostgreSQL's column is varchar(64),
    and it cannot hold NUL."""
    if text is None:
        return None
    # A client sends many requests from one address, and parsing one costs about 1.5 us of
    # the event loop's time per request: remembered, but only short ones (bounded memory).
    return _address(text) if len(text) <= REMEMBERED_IP_CHARS else _address.__wrapped__(text)


@functools.lru_cache(maxsize=4096)
def _address(text: str) -> str | None:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return None
    return text.partition("%")[0]


def find_distinct_id(event: dict[str, Any]) -> str | None:
    """The event's distinct id, trimmed; BadPayload when it breaks the id rule (core.ids)."""
    props = event.get("properties")
    candidates = [event.get("distinct_id"), event.get("$distinct_id")]
    if isinstance(props, dict):
        candidates += [props.get("distinct_id"), props.get("$distinct_id")]
    for value in candidates:
        text = _id_text(value)
        if text:
            if problem := id_problem(text):
                raise BadPayload(f"distinct_id {text[:40]!r}: {problem}; {ID_RULE}")
            return text
    return None


def stored_name(text: str) -> str:
    """An event name as stored: at most MAX_NAME_CHARS, NUL replaced by U+FFFD (PostgreSQL
    text cannot hold NUL, and both backends must store the same). The body keeps the original."""
    return text[:MAX_NAME_CHARS].replace("\x00", "\ufffd")


def _id_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def event_uuid(event: dict[str, Any]) -> str:
    """The dedupe key: the SDK's uuid, or one derived from the content so retries still dedupe."""
    given = event.get("uuid")
    if isinstance(given, str):
        if _CANONICAL_UUID.fullmatch(given):  # as str(UUID) writes it: 8x faster to check
            return given
        try:
            return str(uuidlib.UUID(given))
        except ValueError:
            pass
    return str(uuidlib.uuid5(_DERIVED_NAMESPACE, encode_body(event).decode("utf-8")))


def encode_body(event: dict[str, Any]) -> bytes:
    """Canonical JSON of an event (sorted keys); rejects what cannot be stored faithfully."""
    try:
        data = orjson.dumps(event, option=orjson.OPT_SORT_KEYS)
    except (orjson.JSONEncodeError, TypeError) as exc:
        raise BadPayload(f"event cannot be stored: {exc}") from exc
    if len(data) > MAX_EVENT_BYTES:
        raise PayloadTooLarge(f"an event is {len(data)} bytes; the limit is {MAX_EVENT_BYTES}")
    return data
