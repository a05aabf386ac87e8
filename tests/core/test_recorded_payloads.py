"""Real SDK request bodies (recorded by tests/payloads/record.py), decoded without I/O.

posthog-js: `gzip_*` as it sends by default (text/plain gzip, no URL hint; the last one by
sendBeacon), `plain_*` with `disable_compression` (JSON; the last one a sendBeacon `data=` form
with `?compression=base64`). posthog-python: `json_*` and `gzip_*` (`Content-Encoding: gzip`).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest

from usertrail.core.capture import CaptureBatch, split_request
from usertrail.core.decode import decode_body
from usertrail.core.envelope import to_raw_events
from usertrail.core.normalize import normalize
from usertrail.model.config import ProjectConfig
from usertrail.model.raw import RawEvent

PAYLOADS = Path(__file__).parents[1] / "payloads"
TOKEN = "phc_test_token_0123456789"
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
RECORDED = sorted(PAYLOADS.glob("*/*.bin"))


def meta(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.with_suffix(".json").read_text())
    return data


def split(path: Path) -> CaptureBatch:
    info = meta(path)
    query = dict(parse_qsl(info["query"]))
    payload = decode_body(
        path.read_bytes(),
        content_type=info["content_type"],
        content_encoding=info["content_encoding"],
        compression=query.get("compression", ""),
    )
    return split_request(payload, query=query)


def decode(path: Path) -> list[RawEvent]:
    return to_raw_events(split(path), project_id="p", now=NOW, source="capture")


def events(sdk: str, prefix: str = "") -> list[RawEvent]:
    files = sorted((PAYLOADS / sdk).glob(f"{prefix}*.bin"))
    assert files, f"no recorded {sdk} payloads"
    return [e for f in files for e in decode(f)]


def test_payloads_of_every_recorded_kind_are_present() -> None:
    kinds = {(p.parent.name, meta(p)["content_type"], meta(p)["query"]) for p in RECORDED}
    assert kinds == {
        ("posthog_js", "text/plain", ""),
        ("posthog_js", "application/json", ""),
        ("posthog_js", "application/x-www-form-urlencoded", "compression=base64"),
        ("posthog_python", "application/json", ""),
    }


@pytest.mark.parametrize("path", RECORDED, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_recorded_body_names_the_token_and_its_send_time(path: Path) -> None:
    batch = split(path)
    assert batch.token == TOKEN
    assert batch.sent_at is not None
    assert batch.events


@pytest.mark.parametrize("path", RECORDED, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_recorded_event_keeps_the_sdk_uuid_and_a_distinct_id(path: Path) -> None:
    for event in decode(path):
        assert event.uuid == str(uuid.UUID(event.body["uuid"]))
        assert event.distinct_id


@pytest.mark.parametrize("path", RECORDED, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_recorded_timestamps_are_corrected_to_the_receive_clock(path: Path) -> None:
    for event in decode(path):
        assert abs(event.timestamp - NOW) < timedelta(seconds=5)


def test_posthog_js_autocapture_carries_an_elements_chain_that_labels_well() -> None:
    [click] = [e for e in events("posthog_js") if e.event == "$autocapture"]
    assert 'text="Upgrade to Pro"' in click.body["properties"]["$elements_chain"]
    event = normalize(click, ProjectConfig())
    assert event.label == "Clicked 'Upgrade to Pro' button in Plan picker on App"
    assert event.device is not None
    assert event.device.browser == "Chrome"
    assert event.session_id


def test_posthog_js_identify_names_the_anonymous_id() -> None:
    recorded = events("posthog_js", "gzip")
    [identify] = [e for e in recorded if e.event == "$identify"]
    [view] = [e for e in recorded if e.event == "$pageview"]
    assert identify.distinct_id == "user_42"
    assert identify.body["properties"]["$anon_distinct_id"] == view.distinct_id
    assert identify.body["$set"] == {"plan": "free"}


def test_posthog_js_beacons_keep_utf8_through_gzip_and_base64() -> None:
    beacons = [e for e in events("posthog_js") if e.body["properties"].get("price")]
    assert [e.body["properties"]["price"] for e in beacons] == ["9 €", "9 €"]


def test_posthog_python_gzip_and_json_bodies_carry_the_same_events() -> None:
    def names(prefix: str) -> list[str]:
        return [e.event for e in events("posthog_python", prefix)]

    assert names("gzip") == names("json") == ["feature_used", "$pageview", "$set"]
