"""Over 10,000 malformed capture requests against a real server on loopback.

Every answer must be what its family promises (tests/corpus/corpus.py says which and why),
never a 5xx, and every refusal must say why. Afterwards the server is alive, the raw log holds
exactly the events of the accepted requests (a refused request stores nothing), the
processor has taken all of them without an error, and every person they made reads back.
The families that store events run again on PostgreSQL (skipped without one, failed in CI).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import orjson
import pytest
from sqlalchemy import create_engine, text

from tests.backends import pg_schema_url
from tests.corpus.cases import Case, meets
from tests.corpus.corpus import FAMILIES, corpus
from tests.corpus.encodings import SHADOWED
from tests.corpus.shapes import build_gzip_bomb, build_lz64_bomb
from tests.live import API_KEY, TOKEN, LiveServer
from usertrail.core.posthog_events import STATE_EVENTS

CONCURRENCY = 16
ENV = {"USERTRAIL_DEMO": "0", "USERTRAIL_READ_RATE_PER_S": "0"}  # the read-back is fast


@dataclass(frozen=True)
class Outcome:
    case: Case
    status: int
    body: bytes

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300

    def problem(self) -> str | None:
        if self.status == 0:
            return "no answer"
        if self.status >= 500:
            return "server error"
        if not meets(self.case.expect, self.status):
            return f"expected {self.case.expect}"
        if self.accepted:
            return None if orjson.loads(self.body).get("status") == 1 else "odd 2xx body"
        return None if _reason(self.body) else "no reason in the body"


def _reason(body: bytes) -> str:
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return ""
    return str(parsed.get("detail") or "") if isinstance(parsed, dict) else ""


async def send_all(url: str, cases: Iterator[Case]) -> list[Outcome]:
    """CONCURRENCY workers share one lazy iterator: few bodies exist at any moment."""
    outcomes: list[Outcome] = []
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:

        async def worker() -> None:
            for case in cases:
                wire = case.draft.wire
                try:
                    response = await client.request(
                        wire.method, wire.path, content=wire.body, headers=wire.headers,
                        params=wire.query,
                    )  # fmt: skip
                except httpx.TransportError as exc:  # the server dropped the connection
                    outcomes.append(Outcome(case, 0, repr(exc).encode()))
                    continue
                outcomes.append(Outcome(case, response.status_code, response.content))

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return outcomes


def metric(server: LiveServer, name: str) -> float:
    text = httpx.get(f"{server.url}/metrics").text
    values = re.findall(rf"^{re.escape(name)}(?:\{{[^}}]*\}})? ([0-9.e+]+)$", text, re.M)
    return sum(float(v) for v in values)


def breakdown(outcomes: list[Outcome]) -> str:
    by_family: dict[str, Counter[int]] = defaultdict(Counter)
    for o in outcomes:
        by_family[o.case.family][o.status] += 1
    return "\n".join(f"  {f.name:28} {dict(sorted(by_family[f.name].items()))}" for f in FAMILIES)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    live = LiveServer(data_dir=tmp_path / "data", env=ENV).start()
    yield live
    live.stop()


@pytest.fixture
def pg_server(tmp_path: Path) -> Iterator[LiveServer]:
    with pg_schema_url() as url:
        env = {**ENV, "USERTRAIL_DATABASE_URL": url}
        live = LiveServer(data_dir=tmp_path / "data", env=env).start()
        try:
            yield live
        finally:
            live.stop()


@pytest.mark.timeout(300)
def test_ten_thousand_malformed_requests_get_clear_answers_and_store_nothing_half_written(
    server: LiveServer,
) -> None:
    outcomes = run_corpus(server, corpus())
    assert len(outcomes) >= 10_000
    check_what_was_stored(server, outcomes, f"sqlite:///{server.db_path}")


@pytest.mark.timeout(300)
def test_the_requests_that_store_events_store_them_on_postgresql_too(
    pg_server: LiveServer,
) -> None:
    """The families a server accepts, again on PostgreSQL, whose text columns refuse NUL."""
    storing = {f.name for f in FAMILIES if f.expect in ("2xx", "either")}
    outcomes = run_corpus(pg_server, (c for c in corpus() if c.family in storing))
    assert len(outcomes) >= 3_000
    check_what_was_stored(pg_server, outcomes, pg_server.env["USERTRAIL_DATABASE_URL"])


def run_corpus(server: LiveServer, cases: Iterator[Case]) -> list[Outcome]:
    """Every answer as its family promises, no 5xx, every refusal with a reason."""
    started = time.monotonic()
    outcomes = asyncio.run(send_all(server.url, cases))
    elapsed = time.monotonic() - started
    print(f"\n{len(outcomes)} requests in {elapsed:.1f} s\n{breakdown(outcomes)}")
    problems = [(o.case.label, o.status, p, o.body[:160]) for o in outcomes if (p := o.problem())]
    assert not problems, f"{len(problems)} bad answers, first: {problems[:10]}"
    assert server.proc is not None
    assert server.proc.poll() is None
    assert httpx.get(f"{server.url}/healthz").status_code == 200
    return outcomes


def check_what_was_stored(server: LiveServer, outcomes: list[Outcome], db_url: str) -> None:
    """Exactly the accepted requests' events, all processed without an error."""
    accepted = [o for o in outcomes if o.accepted]
    stored = stored_events(db_url)
    refused = {u for o in outcomes if not o.accepted for u in o.case.draft.uuids}
    assert accepted, "some families must be accepted"
    assert len(stored) == sum(o.case.draft.events for o in accepted)
    assert not set(stored) & refused  # a refused request stored none of its events
    assert SHADOWED not in stored.values()  # the later of two duplicate keys won
    _wait_processed(server, len(stored))
    assert metric(server, "usertrail_errors_total") == 0
    persons = activity_ids(db_url)
    read_back(server, persons)
    no_persons(server, stored_ids(db_url) - persons)
    assert "Traceback" not in server.log_path.read_text(errors="replace")


def read_back(server: LiveServer, distinct_ids: set[str]) -> None:
    """Every person the corpus made reads back: contexts, actions and the dashboard encode
    whatever odd values the accepted events carried (deep lists, 64-bit ints, U+FFFD)."""
    headers = {"Authorization": f"Bearer {API_KEY}"}
    statuses: Counter[int] = Counter()
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
        for distinct_id in sorted(distinct_ids):
            # Dots too: a client removes `.` and `..` path segments before sending.
            quoted = quote(distinct_id, safe="").replace(".", "%2E")
            for path in (f"/context/user/{quoted}?n=500", f"/actions/user/{quoted}",
                         f"/ui/api/person/{quoted}"):  # fmt: skip
                statuses[client.get(path).status_code] += 1
    assert set(statuses) == {200}, statuses
    print(f"read back {len(distinct_ids)} persons: {dict(statuses)}")


def stored_ids(db_url: str) -> set[str]:
    return {str(row[0]) for row in query(db_url, "SELECT DISTINCT distinct_id FROM raw_events")}


def activity_ids(db_url: str) -> set[str]:
    """Ids that sent more than person or account updates and SDK plumbing: the persons."""
    names = ", ".join(f"'{name}'" for name in sorted(STATE_EVENTS))
    sql = f"SELECT DISTINCT distinct_id FROM raw_events WHERE event NOT IN ({names})"
    return {str(row[0]) for row in query(db_url, sql)}


def no_persons(server: LiveServer, distinct_ids: set[str]) -> None:
    """An id that only sent updates (`$set`, `$groupidentify`...) never becomes a person."""
    headers = {"Authorization": f"Bearer {API_KEY}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
        for distinct_id in distinct_ids:
            quoted = quote(distinct_id, safe="").replace(".", "%2E")
            assert client.get(f"/context/user/{quoted}").status_code == 404, distinct_id


def stored_events(db_url: str) -> dict[str, str]:
    """uuid -> event name, for every row of the raw log."""
    return {str(row[0]): str(row[1]) for row in query(db_url, "SELECT uuid, event FROM raw_events")}


def query(db_url: str, sql: str) -> list[tuple[Any, ...]]:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql))]
    finally:
        engine.dispose()


def _wait_processed(server: LiveServer, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while (done := metric(server, "usertrail_events_processed_total")) < count:
        assert time.monotonic() < deadline, f"processed {done} of {count} accepted events"
        time.sleep(0.2)


def peak_rss_mb(server: LiveServer) -> float:
    assert server.proc is not None
    status = Path(f"/proc/{server.proc.pid}/status").read_text()
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
    assert match, "no VmHWM in /proc (Linux only)"
    return int(match.group(1)) / 1024


def test_gigabyte_bombs_are_refused_without_inflating_them(server: LiveServer) -> None:
    gzip_gib = build_gzip_bomb(b'{"event": "e", "distinct_id": "d", "properties": {"x": "', 1024)
    lz64_gib = build_lz64_bomb(1 << 30)
    assert len(gzip_gib) < 2 * 1024 * 1024
    assert len(lz64_gib) < 200_000
    httpx.post(f"{server.url}/e/?token={TOKEN}", json={"event": "warm", "distinct_id": "d"})
    before = peak_rss_mb(server)
    requests = [
        {"content": gzip_gib, "headers": {"content-type": "text/plain"}},
        {"content": gzip_gib, "headers": {"content-encoding": "gzip"}},
        {
            "content": b"compression=lz64&data=" + lz64_gib.replace("+", "%2B").encode(),
            "headers": {"content-type": "application/x-www-form-urlencoded"},
        },
    ]
    for request in requests:
        response = httpx.post(f"{server.url}/e/", timeout=30, **request)  # type: ignore[arg-type]
        assert response.status_code == 413, response.text
        assert "exceeds" in response.json()["detail"]
    assert peak_rss_mb(server) - before < 200  # a GiB was never held
