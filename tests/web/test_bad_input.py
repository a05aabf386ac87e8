"""Bad input gets a clear 4xx and never a 5xx; storage trouble gets a quick 503."""

from __future__ import annotations

import gzip
import sqlite3
from pathlib import Path

import httpx
import orjson
import pytest

from tests.live import TOKEN, LiveServer
from tests.rawlog import raw_rows

EVENT = b'{"event": "e", "distinct_id": "d", "properties": {"x": %s}}'
BODIES = {
    "lone-surrogate": EVENT % b'"\\ud800"',
    "raw-nul-byte": EVENT % b'"a\x00b"',
    "invalid-utf8": EVENT % b'"\xff\xfe"',
    "5000-digit-number": EVENT % (b"9" * 5000),
    "10000-deep-nesting": EVENT % (b"[" * 10_000 + b"]" * 10_000),
    "truncated-gzip": gzip.compress(EVENT % b"1")[:-10],
    "not-base64": b"data=%%%%",
    "event-is-a-number": b"[1]",
    "properties-a-list": b'{"event": "e", "distinct_id": "d", "properties": []}',
    "huge-string-event": orjson.dumps(
        {"event": "e", "distinct_id": "d", "properties": {"s": "x" * 1_100_000}}
    ),
}


@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
def test_malformed_bodies_get_a_4xx_with_a_reason(live_server: LiveServer, body: bytes) -> None:
    response = httpx.post(
        f"{live_server.url}/e/?token={TOKEN}",
        content=body,
        headers={"content-type": "application/x-www-form-urlencoded"}
        if body.startswith(b"data=")
        else {},
    )
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["detail"]
    assert raw_rows(live_server.db_path) == []  # nothing half-written


def test_an_escaped_nul_inside_a_string_is_valid_json_and_kept_as_data(
    live_server: LiveServer,
) -> None:
    response = httpx.post(f"{live_server.url}/e/?token={TOKEN}", content=EVENT % b'"a\\u0000b"')
    assert response.status_code == 200
    assert raw_rows(live_server.db_path)[0]["body"]["properties"]["x"] == "a\x00b"


def test_storage_that_cannot_commit_answers_503_with_retry_after(tmp_path: Path) -> None:
    server = LiveServer(data_dir=tmp_path / "data", env={"USERTRAIL_APPEND_TIMEOUT_S": "0.5"})
    server.start()
    blocker = sqlite3.connect(server.db_path, isolation_level=None)
    try:
        blocker.execute("BEGIN EXCLUSIVE")  # another writer holds the database
        response = httpx.post(
            f"{server.url}/batch/",
            timeout=10,
            content=orjson.dumps(
                {
                    "api_key": TOKEN,
                    "batch": [
                        {
                            "event": "e",
                            "distinct_id": "d",
                            "uuid": "0190f6c2-0000-7000-8000-000000000001",
                        }
                    ],
                }
            ),
        )
        assert response.status_code == 503
        assert response.headers["retry-after"]
        assert response.json()["code"] == "storage_unavailable"
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
        server.stop()
