"""All-in-one `serve`: its processor (a child process) notices new events to the server, which
decodes whole only those of persons its context cache holds. A held person's context still
advances with each new event (no database read), while events of everyone else stream past.

Real `serve` on SQLite and on PostgreSQL (without the bus); the server's /metrics says where
each read's answer came from.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.backends import pg_schema_url
from tests.live import API_KEY, TOKEN, LiveServer, wait_for

USER = "ünï/cødé \u202e匿名"  # non-ASCII, a slash, a bidi override
OTHERS = ["😀" * 100, "team/acme/josé", "%00", "x" * 200]  # NUL: refused at capture


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    env = {"USERTRAIL_DEMO": "0"}
    with pg_schema_url() if request.param == "postgresql" else nullcontext("") as url:
        if url:
            env["USERTRAIL_DATABASE_URL"] = url
        live = LiveServer(tmp_path / "data", env=env).start()
        try:
            yield live
        finally:
            live.stop()


def capture(server: LiveServer, n: int, distinct_id: str, feature: str) -> None:
    body = {
        "api_key": TOKEN,
        "event": "feature_used",
        "distinct_id": distinct_id,
        "properties": {"feature": feature, "$current_url": "https://a.io/p"},
        "timestamp": f"2026-12-01T10:{n:02d}:00Z",
    }
    assert httpx.post(f"{server.url}/e/", json=body).status_code == 200


def context_showing(server: LiveServer, feature: str) -> dict[str, Any]:
    def shows() -> dict[str, Any] | None:
        response = httpx.get(
            f"{server.url}/context/user/{USER}", headers={"Authorization": f"Bearer {API_KEY}"}
        )
        if response.status_code != 200:
            return None
        ctx: dict[str, Any] = response.json()
        return ctx if any(feature in e["label"] for e in ctx["recent_events"]) else None

    return wait_for(shows, 15, f"{feature!r} in the context")


def reads(server: LiveServer) -> dict[str, float]:
    text = httpx.get(f"{server.url}/metrics").text
    found = re.findall(r'^usertrail_context_reads_total\{source="(\w+)"\} (\S+)$', text, re.M)
    return {source: float(value) for source, value in found}


def test_a_held_context_advances_with_its_events_among_everyone_else_s(
    server: LiveServer,
) -> None:
    capture(server, 0, USER, "Start")
    context_showing(server, "Start")
    before = reads(server)
    for n in range(1, 4):
        for other in OTHERS:  # in the same notices, read only for their ids
            capture(server, n, other, f"Other {n}")
        capture(server, n, USER, f"Export {n}")
        context_showing(server, f"Export {n}")
    after = reads(server)
    assert after["store"] == before["store"]  # no read went to the database
    assert after["advanced"] - before.get("advanced", 0) == 3
