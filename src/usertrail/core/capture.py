"""The PostHog capture protocol: a decoded body becomes a token and a list of raw events.

Shapes accepted, as PostHog's capture accepts them: a JSON array of events, one event, or a
batch envelope `{api_key|token, batch, sent_at, historical_migration}`. The token is found where
PostHog finds it (`api_key`, `token`, `$token`, `properties.token`); `distinct_id` at the top level,
`$distinct_id` or `properties.distinct_id`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import msgspec

from usertrail.core.timestamps import parse_epoch_ms, parse_timestamp
from usertrail.errors import BadPayload

MAX_EVENTS_PER_REQUEST = 10_000
_TOKEN_KEYS = ("api_key", "token", "$token")


class CaptureBatch(msgspec.Struct, frozen=True, kw_only=True):
    token: str | None
    events: tuple[dict[str, Any], ...]
    sent_at: datetime | None = None
    historical_migration: bool = False


def split_request(payload: Any, *, query: Mapping[str, str], engage: bool = False) -> CaptureBatch:
    """Find the events, the token and the client's send time in a decoded capture body."""
    envelope: Mapping[str, Any] = {}
    if isinstance(payload, list):
        events = payload
    elif isinstance(payload, dict) and "batch" in payload:
        envelope, events = payload, payload["batch"]
        if not isinstance(events, list):
            raise BadPayload("'batch' must be a list of events")
    elif isinstance(payload, dict):
        events = [payload]
    else:
        raise BadPayload("body must be a JSON object or array of events")
    if not events:
        raise BadPayload("no events in request")
    if len(events) > MAX_EVENTS_PER_REQUEST:
        raise BadPayload(
            f"{len(events)} events in one request; the limit is {MAX_EVENTS_PER_REQUEST}"
        )
    checked = tuple(_check_event(e, engage) for e in events)
    return CaptureBatch(
        token=_find_token(envelope, checked, query),
        events=checked,
        sent_at=_sent_at(envelope, query),
        historical_migration=envelope.get("historical_migration") is True,
    )


def _check_event(event: object, engage: bool) -> dict[str, Any]:
    if not isinstance(event, dict):
        raise BadPayload("every event must be a JSON object")
    if engage and "event" not in event:
        # /engage/ carries person updates; PostHog records them as an $identify.
        event = {**event, "event": "$identify"}
    props = event.get("properties")
    if props is not None and not isinstance(props, dict):
        raise BadPayload("'properties' must be an object")
    return event


def _find_token(
    envelope: Mapping[str, Any], events: tuple[dict[str, Any], ...], query: Mapping[str, str]
) -> str | None:
    for source in (envelope, *events):
        token = token_in(source)
        if token:
            return token
    return query.get("token") or query.get("api_key") or None


def token_in(source: Mapping[str, Any]) -> str | None:
    """A project token where PostHog looks for one in an envelope or event."""
    for key in _TOKEN_KEYS:
        value = source.get(key)
        if isinstance(value, str) and value:
            return value
    props = source.get("properties")
    if isinstance(props, dict):
        value = props.get("token") or props.get("$token")
        if isinstance(value, str) and value:
            return value
    return None


def _sent_at(envelope: Mapping[str, Any], query: Mapping[str, str]) -> datetime | None:
    """posthog-python puts `sent_at` in the body; posthog-js puts epoch ms in the `_` param."""
    value = envelope.get("sent_at")
    if isinstance(value, str):
        return parse_timestamp(value)
    return parse_epoch_ms(query.get("_"))
