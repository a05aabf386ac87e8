"""The SDK endpoints proxied to PostHog (a stand-in on loopback): flags, remote config, assets,
recordings; usertrail's own answers when PostHog fails; a project file's own PostHog token."""

from __future__ import annotations

import gzip
import json
import uuid
from pathlib import Path

import httpx
import orjson
import pytest
from posthog import Posthog

from tests.core.test_ai_capture import CONTENT_TYPE, multipart
from tests.live import TOKEN, LiveServer, wait_for
from tests.posthog_standin import FLAG_KEY, StandIn
from tests.rawlog import raw_rows
from tests.upstream.conftest import RELAY_ENV, metric


def test_flags_come_from_posthog_through_posthog_python(
    relaying: LiveServer, posthog: StandIn
) -> None:
    client = Posthog(TOKEN, host=relaying.url, sync_mode=True)
    with pytest.warns(DeprecationWarning, match="feature_enabled"):
        assert client.feature_enabled(FLAG_KEY, "user_42") is True
    assert posthog.flag_requests[-1].body["distinct_id"] == "user_42"
    assert posthog.flag_requests[-1].headers["x-forwarded-for"] == "127.0.0.1"
    assert metric(relaying, 'usertrail_proxy_requests_total{outcome="proxied",route="flags"}') == 1


def test_with_posthog_down_flags_config_and_assets_fall_back_to_usertrails_own(
    relaying: LiveServer, posthog: StandIn
) -> None:
    posthog.stop()
    flags = httpx.post(f"{relaying.url}/flags/?v=2", json={"token": TOKEN, "distinct_id": "u"})
    assert flags.status_code == 200
    assert flags.json()["flags"] == {}
    assert flags.json()["autocapture_opt_out"] is False  # autocapture keeps working
    config = httpx.get(f"{relaying.url}/array/{TOKEN}/config.js")
    assert config.status_code == 200
    assert "_POSTHOG_REMOTE_CONFIG" in config.text
    asset = httpx.get(f"{relaying.url}/static/array.js")
    assert asset.status_code == 200  # the posthog-js installed here
    assert "x-served-by" not in asset.headers
    for route in ("flags", "config", "static"):
        name = f'usertrail_proxy_requests_total{{outcome="fallback",route="{route}"}}'
        assert metric(relaying, name) == 1, route


def test_assets_and_config_are_posthogs_when_it_is_up(
    relaying: LiveServer, posthog: StandIn
) -> None:
    asset = httpx.get(f"{relaying.url}/static/recorder.js")
    assert asset.status_code == 200
    assert asset.headers["x-served-by"] == "posthog-standin"
    assert posthog.static_hits == ["recorder.js"]
    config = httpx.get(f"{relaying.url}/array/{TOKEN}/config").json()
    assert config["sessionRecording"]["endpoint"] == "/s/"  # PostHog's config, not ours
    missing = httpx.get(f"{relaying.url}/static/no-such-file.js")
    assert missing.status_code == 404  # PostHog's answer passed back


def test_recordings_are_forwarded_as_received_and_not_stored(
    relaying: LiveServer, posthog: StandIn
) -> None:
    chunk = [
        {
            "event": "$snapshot",
            "properties": {"distinct_id": "u", "token": TOKEN, "$snapshot_data": [{"type": 2}]},
        }
    ]
    body = gzip.compress(orjson.dumps(chunk))
    answer = httpx.post(
        f"{relaying.url}/s/?compression=gzip-js",
        content=body,
        headers={"Content-Type": "text/plain"},
    )
    assert answer.status_code == 200
    assert posthog.recordings[0].body == chunk
    assert not raw_rows(relaying.db_path, "event = '$snapshot'")
    posthog.stop()
    down = httpx.post(f"{relaying.url}/s/", content=body, headers={"Content-Type": "text/plain"})
    assert down.status_code == 503  # the SDK keeps the chunk and retries
    assert down.headers["retry-after"] == "5"


def test_llm_analytics_multipart_is_captured_and_relayed(
    relaying: LiveServer, posthog: StandIn
) -> None:
    event_uuid = str(uuid.uuid4())
    body = multipart(
        {
            "event": {"uuid": event_uuid, "event": "$ai_generation", "distinct_id": "u1"},
            "event.properties": {"$ai_model": "gpt-4o-mini"},
            "event.properties.$ai_input": [{"role": "user", "content": "hello"}],
        }
    )
    answer = httpx.post(
        f"{relaying.url}/i/v0/ai",
        content=body,
        headers={"Content-Type": CONTENT_TYPE, "Authorization": f"Bearer {TOKEN}"},
    )
    assert answer.status_code == 200, answer.text
    [stored] = raw_rows(relaying.db_path, "uuid = ?", (event_uuid,))
    assert stored["body"]["properties"]["$ai_input"][0]["content"] == "hello"
    wait_for(lambda: event_uuid in posthog.uuids(), what="relayed")
    assert {r.path for r in posthog.captured} == {"/i/v0/ai/batch/"}
    unauthenticated = httpx.post(
        f"{relaying.url}/i/v0/ai", content=body, headers={"Content-Type": CONTENT_TYPE}
    )
    assert unauthenticated.status_code == 401


def test_a_project_files_posthog_token_is_used_upstream(tmp_path: Path) -> None:
    upstream = "phc_the_posthog_projects_token"
    posthog = StandIn(tokens={upstream}).start()
    project_file = tmp_path / "project.yaml"
    project_file.write_text(json.dumps({"posthog": {"host": posthog.url, "token": upstream}}))
    server = LiveServer(
        tmp_path / "ut", env={**RELAY_ENV, "USERTRAIL_PROJECT_FILE": str(project_file)}
    ).start()
    try:
        event_uuid = str(uuid.uuid4())
        event = {"api_key": TOKEN, "event": "signup", "distinct_id": "u", "uuid": event_uuid}
        assert httpx.post(f"{server.url}/e/", json=event).status_code == 200
        wait_for(lambda: event_uuid in posthog.uuids(), what="relayed under PostHog's token")
        assert {r.body["api_key"] for r in posthog.captured} == {upstream}
        flags = httpx.post(f"{server.url}/flags/?v=2", json={"token": TOKEN, "distinct_id": "u"})
        assert FLAG_KEY in flags.json()["flags"]
        assert posthog.flag_requests[-1].body["token"] == upstream
    finally:
        server.stop()
        posthog.stop()
