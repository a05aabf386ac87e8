"""Rule 1, raw first: a kill -9 at any instant loses no acknowledged event."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import httpx
import orjson

from tests.live import TOKEN, LiveServer
from tests.rawlog import raw_uuids


def _stream(url: str, acked: list[str], stop: threading.Event) -> None:
    """Send batches of 5 until the server dies; remember what it acknowledged."""
    with httpx.Client(timeout=5) as client:
        while not stop.is_set():
            batch = [
                {"event": "e", "distinct_id": "d", "uuid": str(uuid.uuid4())} for _ in range(5)
            ]
            try:
                response = client.post(
                    f"{url}/batch/", content=orjson.dumps({"api_key": TOKEN, "batch": batch})
                )
            except httpx.TransportError:
                return
            if response.status_code == 200:
                acked.extend(e["uuid"] for e in batch)


def test_kill_9_during_a_stream_loses_no_acknowledged_event(tmp_path: Path) -> None:
    server = LiveServer(data_dir=tmp_path / "data").start()
    acked: list[str] = []
    stop = threading.Event()
    senders = [threading.Thread(target=_stream, args=(server.url, acked, stop)) for _ in range(4)]
    for sender in senders:
        sender.start()
    deadline = time.monotonic() + 20
    while len(acked) < 500 and time.monotonic() < deadline:
        time.sleep(0.01)
    server.kill()
    stop.set()
    for sender in senders:
        sender.join(10)
    assert len(acked) >= 500, "the stream never got going"

    restarted = LiveServer(data_dir=server.data_dir, port=server.port).start()
    try:
        assert set(acked) <= raw_uuids(restarted.db_path)
        response = httpx.post(
            f"{restarted.url}/batch/",
            content=orjson.dumps(
                {"api_key": TOKEN, "batch": [{"event": "after", "distinct_id": "d"}]}
            ),
        )
        assert response.status_code == 200
    finally:
        restarted.stop()
