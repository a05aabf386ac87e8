"""core.relay: what the relay sends PostHog, in which batches, and what PostHog's answers mean."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest

from tests.factories import T0, make_raw
from usertrail.core.relay import (
    AI_BATCH_PATH,
    BATCH_PATH,
    HISTORICAL_KEY,
    Rejected,
    Retry,
    Sent,
    Target,
    backoff_s,
    batch_body,
    outcome,
    parse_retry_after,
    plan_batches,
    target_for,
    upstream_event,
)
from usertrail.model.config import PosthogSpec
from usertrail.model.raw import LoggedEvent, RawEvent
from usertrail.services.relay import safe_prefix

TARGET = Target(host="https://ph.test", token="phc_x", assets_host="https://ph.test")


def logged(seq: int, raw: RawEvent | None = None, **kw: object) -> LoggedEvent:
    return LoggedEvent(seq=seq, raw=raw or make_raw(**kw))  # type: ignore[arg-type]


def with_ip(raw: RawEvent, ip: str | None, **props: object) -> RawEvent:
    body = {**raw.body, "properties": {**raw.body.get("properties", {}), **props}}
    return msgspec.structs.replace(raw, ip=ip, body=body)


def test_upstream_event_keeps_uuid_and_sends_the_corrected_time_without_offset() -> None:
    raw = make_raw("signup", at=30)
    raw = msgspec.structs.replace(raw, body={**raw.body, "offset": 5000})
    sent = upstream_event(raw)
    assert sent["uuid"] == raw.uuid
    assert sent["timestamp"] == (T0 + timedelta(seconds=30)).isoformat()
    assert "offset" not in sent
    assert sent["event"] == "signup"
    assert sent["distinct_id"] == raw.distinct_id


def test_upstream_event_carries_the_client_ip_for_geoip() -> None:
    assert upstream_event(with_ip(make_raw(), "203.0.113.9"))["properties"]["$ip"] == "203.0.113.9"


def test_upstream_event_keeps_an_ip_the_sdk_set_and_honours_geoip_disable() -> None:
    own = upstream_event(with_ip(make_raw(), "203.0.113.9", **{"$ip": "198.51.100.1"}))
    assert own["properties"]["$ip"] == "198.51.100.1"
    off = upstream_event(with_ip(make_raw(), "203.0.113.9", **{"$geoip_disable": True}))
    assert "$ip" not in off["properties"]


def test_only_events_the_sdks_sent_here_are_relayed() -> None:
    captured = logged(1)
    from_webhook = logged(2, msgspec.structs.replace(make_raw(), source="webhook"))
    imported = logged(3, msgspec.structs.replace(make_raw(), source="backfill"))
    batches = plan_batches([captured, from_webhook, imported], lambda _p: TARGET, max_events=10)
    assert [e.seq for b in batches for e in b.events] == [1]


def test_projects_without_a_posthog_are_skipped() -> None:
    events = [logged(1, project_id="with"), logged(2, project_id="without")]
    batches = plan_batches(events, lambda p: TARGET if p == "with" else None, max_events=10)
    assert [e.seq for b in batches for e in b.events] == [1]


def test_batches_are_bounded_by_count_and_by_size() -> None:
    events = [logged(i) for i in range(1, 8)]
    by_count = plan_batches(events, lambda _p: TARGET, max_events=3)
    assert [len(b.events) for b in by_count] == [3, 3, 1]
    by_size = plan_batches(
        events, lambda _p: TARGET, max_events=100, max_bytes=250, size_of=lambda _raw: 100
    )
    assert [len(b.events) for b in by_size] == [2, 2, 2, 1]


def test_ai_events_and_historical_events_go_in_their_own_batches() -> None:
    ai = logged(1, make_raw("$ai_generation"))
    plain = logged(2)
    old = make_raw("imported")
    historical = logged(3, msgspec.structs.replace(old, body={**old.body, HISTORICAL_KEY: True}))
    batches = plan_batches([ai, plain, historical], lambda _p: TARGET, max_events=10)
    shapes = {(b.path, b.historical, b.events[0].seq) for b in batches}
    assert shapes == {(AI_BATCH_PATH, False, 1), (BATCH_PATH, False, 2), (BATCH_PATH, True, 3)}
    body = batch_body(next(b for b in batches if b.historical), T0)
    assert body["historical_migration"] is True
    assert HISTORICAL_KEY not in body["batch"][0]
    assert body["api_key"] == "phc_x"


def test_answers_map_to_sent_retry_or_rejected() -> None:
    assert outcome(200, "", None) == Sent()
    assert outcome(503, "down", None) == Retry("HTTP 503: down", None)
    assert outcome(429, "slow down", "7") == Retry("HTTP 429: slow down", 7.0)
    assert isinstance(outcome(401, "bad token", None), Retry)  # the deployment's to fix
    assert outcome(400, "invalid_payload", None) == Rejected("HTTP 400: invalid_payload")
    assert isinstance(outcome(413, "", None), Rejected)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("3", 3.0),
        (" 0.5 ", 0.5),
        ("-4", 0.0),
        ("99999", 3600.0),
        ("Wed, 21 Oct 2026", None),
        (None, None),
    ],
)
def test_retry_after_is_read_as_bounded_seconds(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header) == seconds


def test_backoff_is_jittered_and_capped() -> None:
    assert backoff_s(0, rand=lambda: 1.0) == 0.5
    assert backoff_s(3, rand=lambda: 1.0) == 4.0
    assert backoff_s(40, rand=lambda: 1.0, cap_s=60) == 60
    assert backoff_s(5, rand=lambda: 0.0) == 0.0


def test_a_young_gap_in_seqs_holds_the_relay_back_and_an_old_one_does_not() -> None:
    now = T0 + timedelta(seconds=100)
    fresh = [logged(1, at=99), logged(2, at=99), logged(4, at=99.5)]
    assert [e.seq for e in safe_prefix(fresh, 0, now, timedelta(seconds=10))] == [1, 2]
    old = [logged(1, at=10), logged(3, at=20)]
    assert [e.seq for e in safe_prefix(old, 0, now, timedelta(seconds=10))] == [1, 3]
    assert [e.seq for e in safe_prefix(fresh, 0, now, timedelta(0))] == [1, 2, 4]


def test_target_prefers_the_default_projects_setting_and_knows_cloud_assets() -> None:
    spec = PosthogSpec(host="https://eu.i.posthog.com", token="phc_upstream")
    from_file = target_for("phc_local", spec)
    assert from_file == Target(
        host="https://eu.i.posthog.com",
        token="phc_upstream",
        assets_host="https://eu-assets.i.posthog.com",
    )
    from_env = target_for("phc_local", None, host="https://ph.example/")
    assert from_env == Target(
        host="https://ph.example", token="phc_local", assets_host="https://ph.example"
    )
    assert target_for("phc_local", None) is None
