"""The unmodified posthog-python SDK against a real usertrail server on loopback."""

from __future__ import annotations

import gzip
import uuid

import httpx
import orjson
import pytest
from posthog import Posthog

from tests.live import TOKEN, LiveServer
from tests.rawlog import raw_rows


@pytest.mark.parametrize("use_gzip", [False, True], ids=["json", "gzip"])
def test_posthog_python_events_are_stored_before_the_ack(
    live_server: LiveServer, use_gzip: bool
) -> None:
    client = Posthog(TOKEN, host=live_server.url, sync_mode=True, gzip=use_gzip)
    client.capture("feature_used", distinct_id="user_1", properties={"feature": "export"})
    client.set(distinct_id="user_1", properties={"plan": "pro"})
    rows = raw_rows(live_server.db_path)
    assert [r["event"] for r in rows] == ["feature_used", "$set"]
    assert rows[0]["distinct_id"] == "user_1"
    assert rows[0]["body"]["properties"]["feature"] == "export"


def test_same_batch_sent_three_times_is_stored_once(live_server: LiveServer) -> None:
    batch = [{"event": "e", "distinct_id": "d", "uuid": str(uuid.uuid4())} for _ in range(50)]
    body = orjson.dumps({"api_key": TOKEN, "batch": batch})
    for _ in range(3):
        response = httpx.post(f"{live_server.url}/batch/", content=body)
        assert response.json() == {"status": 1}
    assert len(raw_rows(live_server.db_path)) == 50


@pytest.mark.parametrize(
    "path", ["/e", "/e/", "/i/v0/e/", "/batch", "/capture/", "/track", "/engage/"]
)
def test_every_capture_path_accepts_events(live_server: LiveServer, path: str) -> None:
    body = gzip.compress(orjson.dumps({"event": "x", "$distinct_id": "d", "token": TOKEN}))
    response = httpx.post(
        f"{live_server.url}{path}?compression=gzip-js",
        content=body,
        headers={"content-type": "text/plain"},
    )
    assert (response.status_code, response.json()) == (200, {"status": 1})


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (
            b'{"api_key": "phc_wrong", "batch": [{"event": "e", "distinct_id": "d"}]}',
            401,
            "unauthorized",
        ),
        (b'{"batch": [{"event": "e", "distinct_id": "d"}]}', 401, "unauthorized"),
        (b"{broken", 400, "bad_payload"),
        (orjson.dumps({"api_key": TOKEN, "batch": [{"event": "e"}]}), 400, "bad_payload"),
        (gzip.compress(b"[" + b" " * (25 * 1024 * 1024) + b"]"), 413, "too_large"),
    ],
    ids=["wrong-token", "no-token", "bad-json", "no-distinct-id", "gzip-bomb"],
)
def test_bad_requests_get_posthog_status_codes_and_a_reason(
    live_server: LiveServer, body: bytes, status: int, code: str
) -> None:
    response = httpx.post(f"{live_server.url}/batch/", content=body)
    assert response.status_code == status
    assert response.json()["code"] == code
    assert raw_rows(live_server.db_path) == []


def test_cors_preflight_echoes_the_origin_and_allows_credentials(live_server: LiveServer) -> None:
    response = httpx.options(
        f"{live_server.url}/e/",
        headers={
            "Origin": "http://app.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "http://app.example"
    assert response.headers["access-control-allow-credentials"] == "true"


def test_remote_config_turns_autocapture_on(live_server: LiveServer) -> None:
    config = httpx.get(f"{live_server.url}/array/{TOKEN}/config").json()
    assert config["autocapture_opt_out"] is False
    assert config["elementsChainAsString"] is True
    flags = httpx.post(f"{live_server.url}/flags/?v=2", content=b"{}").json()
    assert flags["flags"] == {}
    assert flags["supportedCompression"] == ["gzip", "gzip-js"]


def test_metrics_count_accepted_duplicate_and_rejected_events(live_server: LiveServer) -> None:
    body = orjson.dumps(
        {"api_key": TOKEN, "batch": [{"event": "e", "distinct_id": "d", "uuid": str(uuid.uuid4())}]}
    )
    httpx.post(f"{live_server.url}/batch/", content=body)
    httpx.post(f"{live_server.url}/batch/", content=body)
    httpx.post(f"{live_server.url}/batch/", content=b"nope")
    text = httpx.get(f"{live_server.url}/metrics").text
    assert 'usertrail_events_total{outcome="accepted",source="capture"} 1.0' in text
    assert 'usertrail_events_total{outcome="duplicate",source="capture"} 1.0' in text
    assert 'usertrail_requests_rejected_total{reason="bad_payload"} 1.0' in text
