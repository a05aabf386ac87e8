"""`usertrail replay` rebuilds derived state byte for byte what the live path wrote."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson

from tests.live import TOKEN, LiveServer
from tests.services.test_pipeline_order import dump
from tests.traces import account_trace, login_trace
from usertrail.adapters.sql.engine import make_engine
from usertrail.model.raw import RawEvent


def trace() -> list[RawEvent]:
    return login_trace() + account_trace()


def _send(url: str) -> None:
    batch = [{**e.body, "uuid": e.uuid, "timestamp": e.timestamp.isoformat()} for e in trace()]
    response = httpx.post(f"{url}/batch/", content=orjson.dumps({"api_key": TOKEN, "batch": batch}))
    assert response.status_code == 200


def _wait_processed(db: Path, expected: int) -> None:
    engine = make_engine(f"sqlite:///{db}")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(dump(engine)["events"]) < expected:
        time.sleep(0.05)
    engine.dispose()


def test_replay_reproduces_the_live_derived_state(tmp_path: Path) -> None:
    server = LiveServer(data_dir=tmp_path / "data").start()
    try:
        _send(server.url)
        _wait_processed(server.db_path, len(trace()))
    finally:
        server.stop()
    engine = make_engine(f"sqlite:///{server.db_path}")
    live = dump(engine)
    engine.dispose()
    assert live["group_members"]
    assert live["group_updates"]
    result = subprocess.run(
        [sys.executable, "-m", "usertrail", "replay", "--data-dir", str(server.data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert f"replayed {len(trace())} events" in result.stderr
    engine = make_engine(f"sqlite:///{server.db_path}")
    assert dump(engine) == live
    engine.dispose()
