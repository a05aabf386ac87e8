"""/metrics as Prometheus users expect it, from a real server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.live import API_KEY, LiveServer


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data = tmp_path_factory.mktemp("metrics") / "data"
    live = LiveServer(data_dir=data, env={"USERTRAIL_DEMO": "0"}).start()
    yield live
    live.stop()


def metrics(server: LiveServer) -> str:
    return httpx.get(f"{server.url}/metrics").text


def test_the_standard_process_and_python_series_are_exported(server: LiveServer) -> None:
    text = metrics(server)
    for name in (
        "process_resident_memory_bytes",
        "process_cpu_seconds_total",
        "process_open_fds",
        "python_info",
        "python_gc_collections_total",
    ):
        assert re.search(rf"^{name}(\{{.*\}})? ", text, re.M), name


def test_no_created_series_are_exported(server: LiveServer) -> None:
    httpx.post(f"{server.url}/batch/", content=b"nope")
    assert "_created" not in metrics(server)


def test_a_context_404_is_a_refused_read_not_a_refused_ingest(server: LiveServer) -> None:
    headers = {"Authorization": f"Bearer {API_KEY}"}
    for _ in range(2):
        assert httpx.get(f"{server.url}/context/user/nobody", headers=headers).status_code == 404
    httpx.get(f"{server.url}/context/user/nobody", headers={"Authorization": "Bearer utk_no"})
    text = metrics(server)
    assert 'usertrail_read_requests_rejected_total{reason="not_found"} 2.0' in text
    assert 'usertrail_read_requests_rejected_total{reason="unauthorized"} 1.0' in text
    assert 'usertrail_requests_rejected_total{reason="not_found"}' not in text
    assert 'usertrail_requests_rejected_total{reason="unauthorized"}' not in text


def test_a_refused_webhook_is_a_refused_ingest(server: LiveServer) -> None:
    httpx.post(f"{server.url}/webhooks/posthog", json={}, headers={"X-Usertrail-Secret": "no"})
    assert 'usertrail_requests_rejected_total{reason="unauthorized"}' in metrics(server)


def test_every_usertrail_series_says_what_it_counts(server: LiveServer) -> None:
    helps = re.findall(r"^# HELP (usertrail_\w+) (.*)$", metrics(server), re.M)
    assert len(helps) >= 10
    vague = [name for name, text in helps if len(text.split()) < 6]
    assert vague == []


def test_two_runtimes_in_one_process_each_have_their_own_registry(tmp_path: Path) -> None:
    from usertrail.observability import Metrics

    first, second = Metrics(), Metrics()
    first.events.labels("accepted", "capture").inc()
    value = second.registry.get_sample_value(
        "usertrail_events_total", {"outcome": "accepted", "source": "capture"}
    )
    assert value is None
    assert second.registry.get_sample_value("process_open_fds") is not None
