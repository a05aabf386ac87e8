"""Real SDK request bodies (recorded by tests/payloads/record.py), decoded without I/O."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest

from usertrail.core.capture import split_request
from usertrail.core.decode import decode_body
from usertrail.core.envelope import to_raw_events
from usertrail.core.normalize import normalize
from usertrail.model.config import ProjectConfig
from usertrail.model.raw import RawEvent

PAYLOADS = Path(__file__).parents[1] / "payloads"
TOKEN = "phc_test_token_0123456789"
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def decode(path: Path) -> list[RawEvent]:
    meta: dict[str, Any] = json.loads(path.with_suffix(".json").read_text())
    query = dict(parse_qsl(meta["query"]))
    payload = decode_body(
        path.read_bytes(),
        content_type=meta["content_type"],
        content_encoding=meta["content_encoding"],
        compression=query.get("compression", ""),
    )
    batch = split_request(payload, query=query)
    assert batch.token == TOKEN
    return to_raw_events(batch, project_id="p", now=NOW, source="capture")


def all_events(sdk: str) -> list[RawEvent]:
    files = sorted((PAYLOADS / sdk).glob("*.bin"))
    assert files, f"no recorded {sdk} payloads"
    return [e for f in files for e in decode(f)]


@pytest.mark.parametrize("path", sorted(PAYLOADS.glob("*/*.bin")), ids=lambda p: p.stem)
def test_every_recorded_body_decodes_to_events_with_ids(path: Path) -> None:
    events = decode(path)
    assert events
    assert all(e.distinct_id and e.uuid for e in events)


def test_posthog_js_autocapture_carries_an_elements_chain_that_labels_well() -> None:
    [click] = [e for e in all_events("posthog_js") if e.event == "$autocapture"]
    event = normalize(click, ProjectConfig())
    assert event.label == "Clicked 'Upgrade to Pro' button in Plan picker on App"
    assert event.device is not None
    assert event.device.browser == "Chrome"
    assert event.session_id


def test_posthog_js_identify_names_the_anonymous_id() -> None:
    events = all_events("posthog_js")
    [identify] = [e for e in events if e.event == "$identify"]
    [view] = [e for e in events if e.event == "$pageview"]
    assert identify.body["properties"]["$anon_distinct_id"] == view.distinct_id


def test_posthog_python_gzip_and_json_bodies_carry_the_same_events() -> None:
    def names(prefix: str) -> list[str]:
        return [
            e.event
            for f in sorted((PAYLOADS / "posthog_python").glob(f"{prefix}_*.bin"))
            for e in decode(f)
        ]

    assert names("gzip") == names("json") == ["feature_used", "$pageview", "$set"]
