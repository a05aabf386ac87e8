"""Relaying accepted events to PostHog: which events go, in which batch, as what body, and
what PostHog's answer means. Pure; the relay service (services.relay) does the I/O.

What PostHog's capture needs from a proxy, read from its source:
- `uuid` kept, so an event sent twice (at-least-once) is one event in PostHog.
- An absolute `timestamp`: PostHog corrects clock skew with `sent_at`/`offset` against its own
  receive time, which is wrong for an event relayed minutes later (a catch-up after an
  outage). usertrail already corrected the time at receipt, so that corrected time is sent and
  `offset` is dropped.
- The client's IP as `$ip`: PostHog's GeoIP reads the `$ip` property first and the request's
  IP only without one; a relayed batch comes from usertrail's address, so each event says its
  own (unless the SDK set `$ip` itself, or asked for none with `$geoip_disable`).
- `historical_migration` as the SDK sent it: such batches go to PostHog's historical path.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

import msgspec

from usertrail.model.config import PosthogSpec
from usertrail.model.raw import LoggedEvent, RawEvent

HISTORICAL_KEY = "historical_migration"  # set on a stored body when its envelope said so
BATCH_PATH = "/batch/"
AI_BATCH_PATH = "/i/v0/ai/batch/"  # posthog-python 7 sends `$ai_*` events here
MAX_BATCH_BYTES = 5 * 1024 * 1024  # well under PostHog's 20 MB per request


class Target(msgspec.Struct, frozen=True, kw_only=True):
    """Where one project's events go: a PostHog host and the token that names the project
    there; `assets_host` serves PostHog's /static/ files (array.js, recorder, surveys)."""

    host: str
    token: str
    assets_host: str


# PostHog Cloud serves its SDK assets from a host of their own.
_CLOUD_ASSETS = {
    "https://us.i.posthog.com": "https://us-assets.i.posthog.com",
    "https://eu.i.posthog.com": "https://eu-assets.i.posthog.com",
}


def target_for(
    project_token: str,
    spec: PosthogSpec | None,
    *,
    host: str | None = None,
    assets_host: str | None = None,
) -> Target | None:
    """A project's PostHog: `host`/`assets_host` (the default project's USERTRAIL_POSTHOG_*,
    which win over the project file, as settings do) or the project file's `posthog:`."""
    host = (host or (spec.host if spec else "")).rstrip("/")
    if not host:
        return None
    assets = assets_host or (spec.assets_host if spec else None) or _CLOUD_ASSETS.get(host, host)
    token = (spec.token if spec else None) or project_token
    return Target(host=host, token=token, assets_host=assets.rstrip("/"))


class Batch(msgspec.Struct, frozen=True, kw_only=True):
    target: Target
    path: str
    historical: bool
    events: tuple[LoggedEvent, ...]


def relayable(raw: RawEvent) -> bool:
    """Only what the SDKs sent to usertrail: webhook events came from PostHog, and backfill
    copied PostHog's history here; sending either back would count them twice."""
    return raw.source == "capture"


def upstream_event(raw: RawEvent, token: str | None = None) -> dict[str, Any]:
    """The event as PostHog's capture takes it from a proxy."""
    body = {k: v for k, v in raw.body.items() if k not in ("offset", HISTORICAL_KEY)}
    props = dict(body.get("properties") or {})
    if raw.ip and "$ip" not in props and not props.get("$geoip_disable"):
        props["$ip"] = raw.ip
    if token is not None and "token" in props:
        props["token"] = token
    body["properties"] = props
    body["uuid"] = raw.uuid
    body["event"] = body.get("event", raw.event)
    body["distinct_id"] = raw.distinct_id
    body["timestamp"] = raw.timestamp.isoformat()
    return body


def batch_body(batch: Batch, sent_at: datetime) -> dict[str, Any]:
    return {
        "api_key": batch.target.token,
        "historical_migration": batch.historical,
        "sent_at": sent_at.isoformat(),
        "batch": [upstream_event(e.raw, batch.target.token) for e in batch.events],
    }


def plan_batches(
    events: Sequence[LoggedEvent],
    target_of: Callable[[str], Target | None],
    *,
    max_events: int,
    max_bytes: int = MAX_BATCH_BYTES,
    size_of: Callable[[RawEvent], int] = lambda raw: len(msgspec.json.encode(raw.body)),
) -> list[Batch]:
    """Relayable events, in log order, grouped by (target, path, historical) into batches of
    at most `max_events` events and about `max_bytes`."""
    open_: dict[tuple[Target, str, bool], list[LoggedEvent]] = {}
    sizes: dict[tuple[Target, str, bool], int] = {}
    done: list[Batch] = []
    for logged in events:
        target = target_of(logged.raw.project_id) if relayable(logged.raw) else None
        if target is None:
            continue
        key = (target, _path(logged.raw), logged.raw.body.get(HISTORICAL_KEY) is True)
        size = size_of(logged.raw)
        group = open_.setdefault(key, [])
        if group and (len(group) >= max_events or sizes[key] + size > max_bytes):
            done.append(_batch(key, group))
            group = open_[key] = []
            sizes[key] = 0
        group.append(logged)
        sizes[key] = sizes.get(key, 0) + size
    done.extend(_batch(key, group) for key, group in open_.items() if group)
    return done


def _path(raw: RawEvent) -> str:
    return AI_BATCH_PATH if raw.event.startswith("$ai_") else BATCH_PATH


def _batch(key: tuple[Target, str, bool], events: list[LoggedEvent]) -> Batch:
    target, path, historical = key
    return Batch(target=target, path=path, historical=historical, events=tuple(events))


# --- PostHog's answer ----------------------------------------------------------------------


class Sent(msgspec.Struct, frozen=True):
    pass


class Retry(msgspec.Struct, frozen=True):
    reason: str
    after_s: float | None = None  # what Retry-After asked for, if anything


class Rejected(msgspec.Struct, frozen=True):
    """A 4xx that will never pass: split the batch to find the event, then dead-letter it."""

    reason: str


Outcome = Sent | Retry | Rejected


def outcome(status: int, text: str, retry_after: str | None) -> Outcome:
    if 200 <= status < 300:
        return Sent()
    reason = f"HTTP {status}: {text[:200]}".strip()
    if status == 429 or status >= 500 or status in _RETRIED_4XX:
        return Retry(reason, parse_retry_after(retry_after))
    return Rejected(reason)


# A wrong token or host (401, 403, 404) is the deployment's to fix, not the event's fault:
# the relay waits (lag and the error show on /metrics and the dashboard) and loses nothing.
_RETRIED_4XX = frozenset({401, 403, 404, 408, 425})


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from `Retry-After` (delta-seconds; an HTTP date is treated as absent)."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return min(max(seconds, 0.0), 3600.0)


def backoff_s(
    attempt: int, *, base_s: float = 0.5, cap_s: float = 60.0, rand: Callable[[], float]
) -> float:
    """Full jitter: a random wait up to base·2^attempt, capped, so many relays recovering
    from one outage do not retry in step."""
    return rand() * min(cap_s, base_s * 2.0 ** min(attempt, 30))


def retry_wait_s(retry: Retry, attempt: int, cap_s: float, rand: Callable[[], float]) -> float:
    if retry.after_s is not None:
        return min(retry.after_s, cap_s)
    return backoff_s(attempt, cap_s=cap_s, rand=rand)


def halves(events: Sequence[LoggedEvent]) -> Iterable[tuple[LoggedEvent, ...]]:
    """A rejected batch is split in two until the event PostHog refuses stands alone."""
    middle = len(events) // 2
    return (tuple(events[:middle]), tuple(events[middle:]))


def default_rand() -> float:
    return random.random()
