"""Timestamps as PostHog reads them, including its clock-skew correction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

# PostHog treats anything further ahead than this as a broken client clock.
FUTURE_TOLERANCE = timedelta(hours=23)


def parse_timestamp(value: Any) -> datetime | None:
    """ISO 8601 string or epoch number -> aware UTC datetime; None when unparseable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return _from_epoch(value / 1000 if value > 1e11 else value)
    if not isinstance(value, str) or not value or len(value) > 64:
        return None
    try:  # Python 3.11 reads a trailing "Z" itself: every event's timestamp, so no rewrite
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:  # a lowercase "z", as some clients send it
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            return None
    if parsed.tzinfo is UTC:
        return parsed
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def parse_epoch_ms(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return _from_epoch(float(value) / 1000)
    except ValueError:
        return None


def _from_epoch(seconds: float) -> datetime | None:
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def corrected_timestamp(
    event: dict[str, Any], *, sent_at: datetime | None, now: datetime
) -> datetime:
    """When the event happened, in server time, as PostHog's `parseEventTimestamp` computes it.

    With both the event's `timestamp` and the request's `sent_at`, the client's clock skew is
    removed: now + (timestamp - sent_at). With only an `offset` (ms before sending): now - offset.
    """
    props = event.get("properties")
    ignore_sent_at = isinstance(props, dict) and props.get("$ignore_sent_at") is True
    timestamp = parse_timestamp(event.get("timestamp"))
    event_sent_at = parse_timestamp(event.get("sent_at")) or sent_at
    result: datetime | None
    if timestamp is not None and event_sent_at is not None and not ignore_sent_at:
        result = _safe_add(now, timestamp - event_sent_at)
    elif (offset := event.get("offset")) is not None and isinstance(offset, int | float):
        result = _safe_add(now, -timedelta(milliseconds=min(abs(offset), 1e12)))
    else:
        result = timestamp
    if result is None or result > now + FUTURE_TOLERANCE:
        return now
    return result


def _safe_add(base: datetime, delta: timedelta) -> datetime | None:
    try:
        return base + delta
    except OverflowError:
        return None
