"""The client's ip in the raw log, on SQLite and PostgreSQL: kept only when it is an address
(core.envelope.client_ip), so both store the same and no ip refuses an event. Before, a
longer ip was cut to 64 characters on PostgreSQL (kept whole on SQLite) and one with NUL
failed the whole append there.

The ip comes from the peer or, as uvicorn trusts it from loopback by default, from
X-Forwarded-For: any text a proxy passes on.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, select

from tests.live import TOKEN, LiveServer
from usertrail.adapters.sql.tables import raw_events
from usertrail.services.ingest import CaptureRequest
from usertrail.settings import Settings
from usertrail.wiring import build_runtime

ZONE = "fe80::1%" + "é" * 80
# Sent as X-Forwarded-For (latin-1 bytes on the wire) -> what the raw log keeps.
FORWARDED = {
    "203.0.113.7": "203.0.113.7",
    "2001:db8::8a2e:370:7334": "2001:db8::8a2e:370:7334",
    "fe80::1%eth0": "fe80::1",
    ZONE: "fe80::1",
    "x" * 300: None,
    "é" * 70: None,
    "<script>alert(1)</script>": None,
}
# Only a server in front could pass these on (HTTP/1.1 parsers refuse them in a header).
IN_PROCESS = {"1.2.3.4\x00": None, "\x00" * 100: None, "fe80::1%\x00\n": "fe80::1"}


def batch(n: int) -> dict[str, Any]:
    events = [{"event": "ip", "distinct_id": "ü/🙂", "uuid": str(uuid.uuid4())} for _ in range(n)]
    return {"api_key": TOKEN, "batch": events}


def stored_ips(database_url: str) -> dict[str, str | None]:
    engine = create_engine(Settings(database_url=database_url).sqlalchemy_url())
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(raw_events.c.uuid, raw_events.c.ip)).all()
    finally:
        engine.dispose()
    return {row.uuid: row.ip for row in rows}


def sent(body: dict[str, Any], ip: str | None) -> dict[str, str | None]:
    return {event["uuid"]: ip for event in body["batch"]}


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    env = {"USERTRAIL_DATABASE_URL": database_url, "USERTRAIL_DEMO": "0"}
    live = LiveServer(tmp_path / "ut", env=env).start()
    yield live
    live.stop()


def test_a_forwarded_ip_is_stored_the_same_on_both_backends(
    server: LiveServer, database_url: str
) -> None:
    expected: dict[str, str | None] = {}
    for forwarded, kept in FORWARDED.items():
        for n in (1, 70):  # one event, and a batch
            body = batch(n)
            headers = {b"X-Forwarded-For": forwarded.encode("latin-1")}
            answer = httpx.post(f"{server.url}/batch/", json=body, headers=headers, timeout=10)
            assert answer.status_code == 200, answer.text
            expected |= sent(body, kept)
    assert stored_ips(database_url) == expected  # every event, with the same ip everywhere


async def test_an_ip_no_http_header_can_carry_is_stored_the_same_on_both_backends(
    database_url: str, tmp_path: Path
) -> None:
    runtime = build_runtime(
        Settings(data_dir=tmp_path, database_url=database_url, project_token=TOKEN, demo=False)
    )
    expected: dict[str, str | None] = {}
    try:
        for ip, kept in IN_PROCESS.items():
            for n in (1, 70):
                body = batch(n)
                request = CaptureRequest(body=httpx.Request("POST", "/", json=body).content, ip=ip)
                assert (await runtime.ingest.capture(request)).accepted == n
                expected |= sent(body, kept)
    finally:
        await runtime.close()
    assert stored_ips(database_url) == expected
