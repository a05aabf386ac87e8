"""`usertrail import posthog` over what PostHog's query API (a stand-in on loopback) could
answer: rows capture would refuse are skipped and named while the rest is imported, once, on
SQLite and PostgreSQL; an answer that is not JSON, and a saved position that cannot be read,
are clear messages, never a traceback, and never an import that can no longer go on."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests import backends
from tests.live import TOKEN
from tests.posthog_standin import StandIn
from tests.upstream.test_backfill import environment, history, import_command

# Rows 15-19 are a whole page (of 5) of rows that are no events.
BROKEN: dict[int, dict[str, object]] = {
    3: {"properties": '{"$current_url": "https://app.test/ü'},  # cut: not JSON
    7: {"properties": "[1, 2]"},
    11: {"distinct_id": "a\x00b"},
    15: {"properties": '{"n": 1e400}'},
    16: {"distinct_id": "ü/" * 101},
    17: {"event": ""},
    18: {"properties": "{"},
    19: {"distinct_id": " "},
}


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with backends.database_url(request.param, tmp_path / "imported.db") as url:
        yield url


def run(data_dir: Path, posthog: StandIn, database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        import_command(data_dir, posthog, "--page-size", "5"),
        env={**environment(), "USERTRAIL_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=120,
    )


def sql(database_url: str, query: str) -> list[tuple[object, ...]]:
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            result = conn.execute(text(query))
            return [tuple(r) for r in result] if result.returns_rows else []
    finally:
        engine.dispose()


def test_rows_capture_would_refuse_are_skipped_and_named_and_the_rest_imported_once(
    tmp_path: Path, database_url: str
) -> None:
    rows = history(30, users=3)
    for i, values in BROKEN.items():
        rows[i].update(values)
    posthog = StandIn(tokens={TOKEN}, history=rows).start()
    try:
        done = run(tmp_path / "ut", posthog, database_url)
        again = run(tmp_path / "ut", posthog, database_url)
    finally:
        posthog.stop()
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert f"skipped {len(BROKEN)} rows that are no events" in done.stderr
    assert all(rows[i]["uuid"] in done.stderr for i in BROKEN)
    assert f"read {30 - len(BROKEN)} events from PostHog; 22 were new" in done.stderr
    good = {r["uuid"] for i, r in enumerate(rows) if i not in BROKEN}
    assert {u for (u,) in sql(database_url, "SELECT uuid FROM raw_events")} == good
    assert again.returncode == 0, again.stderr
    assert "0 were new" in again.stderr


def test_an_answer_that_is_not_json_is_a_clear_error(tmp_path: Path) -> None:
    posthog = StandIn(tokens={TOKEN}, history=history(3)).start()
    posthog.faults.query_answer = "<html>Sign in to continue ü</html>".encode()
    try:
        done = run(tmp_path / "ut", posthog, f"sqlite:///{tmp_path / 'ut.db'}")
    finally:
        posthog.stop()
    assert done.returncode == 1
    assert "import stopped: unexpected query answer" in done.stderr
    assert "Sign in to continue" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_saved_position_that_cannot_be_read_imports_again_from_the_start(
    tmp_path: Path, database_url: str
) -> None:
    posthog = StandIn(tokens={TOKEN}, history=history(12, users=3)).start()
    try:
        first = run(tmp_path / "ut", posthog, database_url)
        assert first.returncode == 0, first.stderr
        # As an older version, or a hand, could have left it.
        sql(database_url, """UPDATE import_cursors SET value = '{"timestamp": "ü/\u202e'""")
        again = run(tmp_path / "ut", posthog, database_url)
    finally:
        posthog.stop()
    assert again.returncode == 0, again.stderr
    assert "Traceback" not in again.stderr
    assert "the saved position is not JSON" in again.stderr
    assert "importing again from the start" in again.stderr
    assert "read 12 events from PostHog; 0 were new" in again.stderr
    assert sql(database_url, "SELECT count(*) FROM raw_events") == [(12,)]
