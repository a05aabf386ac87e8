"""One processor per PostgreSQL database, whatever data directory each process has.

Two `serve`s (or workers) on one database without the bus but with their own data directories
(two containers, each its own volume) never see each other's lock file: before the database
lock, both processors followed the raw log and every event was processed twice. Now exactly
one leads, the other says it stands by (its holder's pid is not known there), the leader
killed with SIGKILL hands over with nothing lost, and a leader whose lock session ends (a
terminated backend, a PostgreSQL restart) stands down while another takes the lock.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from tests.backends import pg_schema_url
from tests.live import LiveServer, LiveWorker, wait_for
from tests.scale.test_scale_out import stored_uuids, wait_until_processed
from tests.scale.test_serve_processes import child_of
from tests.scale.test_serve_standby import PER_SERVER, captured, processed, readyz
from tests.scale.test_worker_standby import logged
from usertrail.adapters.processor_lock import ProcessorLock, processor_lock
from usertrail.adapters.sql.engine import make_engine
from usertrail.adapters.sql.leader import LeaderLock
from usertrail.settings import Settings
from usertrail.wiring import migrate_database

NOT_KNOWN = "not known here"  # readyz's words for a holder on another data directory
# The sessions holding LeaderLock's key for "usertrail:processor" in this URL's schema (a
# bigint key: its high half in classid, its low half in objid, objsubid 1).
LOCK_SESSIONS = """
SELECT l.pid FROM pg_locks l,
  (SELECT hashtextextended(current_schema() || ':' || 'usertrail:processor', 0) AS k) AS key
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.classid::bigint = (key.k >> 32) & 4294967295 AND l.objid::bigint = key.k & 4294967295
"""


@pytest.fixture
def pg_url() -> Iterator[str]:
    with pg_schema_url() as url:
        yield url


def lock_sessions(url: str) -> list[int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [int(row[0]) for row in conn.execute(text(LOCK_SESSIONS)).all()]
    finally:
        engine.dispose()


def terminate(url: str, backend: int) -> None:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": backend}).scalar()
    finally:
        engine.dispose()


def two_data_dirs(tmp_path: Path) -> tuple[Path, Path]:
    """Non-ASCII, a space, a `%`: the lock files' directories."""
    return tmp_path / "dätä A %2F", tmp_path / "données B"


def processor_lock_on(engine: Engine, data: Path, url: str, server_pid: int) -> ProcessorLock:
    database = LeaderLock(engine, "usertrail:processor")
    return ProcessorLock(processor_lock(data, url), server_pid, database)


async def test_processor_locks_in_two_data_dirs_let_one_lead_until_its_session_ends(
    tmp_path: Path, pg_url: str
) -> None:
    engine = make_engine(pg_url, writer=True)
    first_dir, second_dir = two_data_dirs(tmp_path)
    first = processor_lock_on(engine, first_dir, pg_url, 1)
    second = processor_lock_on(engine, second_dir, pg_url, 2)
    try:
        assert first.try_take()
        assert not second.try_take()  # its own data directory's file is free: not enough
        assert second.holder() is None  # the holder is elsewhere: no pid, not a stale one
        assert await first.still_held()
        [session] = lock_sessions(pg_url)
        terminate(pg_url, session)
        assert await wait_for_false(first.still_held)  # at the next slice, no roundtrip asked
        assert not first.held
        assert first.holder() is None  # its file names it no more
        assert second.try_take()
        assert second.holder() == 2
        assert lock_sessions(pg_url) not in ([], [session])
    finally:
        first.release()
        second.release()
        engine.dispose()


async def wait_for_false(check: Callable[[], Awaitable[bool]]) -> bool:
    """The server's FATAL reaches the client socket a moment after pg_terminate_backend."""
    for _ in range(100):
        if not await check():
            return True
        await asyncio.sleep(0.05)
    return False


@pytest.mark.timeout(120)
def test_two_serves_in_two_data_dirs_on_one_database_process_each_event_once(
    tmp_path: Path, pg_url: str
) -> None:
    """`serve` with its processor in a process of its own; the leader SIGKILLed, server and
    processor both, the other takes over with nothing lost."""
    env = {"USERTRAIL_DEMO": "0", "USERTRAIL_DATABASE_URL": pg_url}
    first_dir, second_dir = two_data_dirs(tmp_path)
    first = LiveServer(first_dir, env=env, log_name="first.log")
    second = LiveServer(second_dir, env=env, log_name="second.log")
    try:
        first.start()
        second.start()
        assert readyz(first) == {"status": "ready"}
        standing = readyz(second)
        assert standing["processor"] == "standby"
        assert NOT_KNOWN in standing["detail"]
        assert "processor_standing_by" in second.log_path.read_text()

        sent = captured(first, 0) | captured(second, 1)
        wait_until_processed(pg_url, timeout=30)
        counts = wait_for(lambda: both_counted(first, second, len(sent)), timeout=20)
        assert counts == (len(sent), 0)  # each event processed once, by the leader

        late = captured(second, 2)  # some perhaps not processed yet when the leader dies
        leader_processor = child_of(first, "worker")
        os.kill(leader_processor, signal.SIGKILL)
        first.kill()
        wait_for(lambda: "processor" not in readyz(second), timeout=20, what="the takeover")
        sent |= late | captured(second, 3)
        stored = wait_until_processed(pg_url, timeout=30)
        assert PER_SERVER <= processed(second) <= 2 * PER_SERVER
        assert stored_uuids(pg_url, "raw_events") == sent
        assert stored == len(sent)
        assert stored_uuids(pg_url, "events") == sent  # nothing lost
    finally:
        second.stop()
        first.stop()


def both_counted(first: LiveServer, second: LiveServer, total: int) -> tuple[float, float] | None:
    """Each server's processor's count, once together they count `total` (or more)."""
    counts = (processed(first), processed(second))
    return counts if sum(counts) >= total else None


@pytest.mark.timeout(120)
@pytest.mark.parametrize("own_process", ["1", "0"], ids=["processor process", "in-process"])
def test_a_leader_whose_lock_session_is_terminated_stands_down_and_another_leads(
    tmp_path: Path, pg_url: str, own_process: str
) -> None:
    """The processors in processes of their own (`serve`'s default), and in the servers'
    processes (USERTRAIL_PROCESSOR_PROCESS=0)."""
    env = {"USERTRAIL_DEMO": "0", "USERTRAIL_DATABASE_URL": pg_url}
    env["USERTRAIL_PROCESSOR_PROCESS"] = own_process
    first_dir, second_dir = two_data_dirs(tmp_path)
    first = LiveServer(first_dir, env=env, log_name="first.log").start()
    second = LiveServer(second_dir, env=env, log_name="second.log").start()
    try:
        assert readyz(first) == {"status": "ready"}
        assert readyz(second)["processor"] == "standby"
        sent = captured(first, 0) | captured(second, 1)
        wait_until_processed(pg_url, timeout=30)
        assert wait_for(lambda: both_counted(first, second, len(sent))) == (len(sent), 0)

        [session] = lock_sessions(pg_url)
        terminate(pg_url, session)
        wait_for(lambda: "processor_stood_down" in first.log_path.read_text(), what="stand down")
        wait_for(lambda: "processor" not in readyz(second), what="the other to lead")
        standing = readyz(first)
        assert standing["processor"] == "standby"
        assert NOT_KNOWN in standing["detail"]
        assert lock_sessions(pg_url) not in ([], [session])

        sent |= captured(first, 2) | captured(second, 3)
        wait_until_processed(pg_url, timeout=30)
        counts = wait_for(lambda: both_counted(first, second, len(sent)), timeout=20)
        assert counts == (2 * PER_SERVER, 2 * PER_SERVER)  # each once, by the one leading
        assert stored_uuids(pg_url, "events") == sent
    finally:
        second.stop()
        first.stop()


@pytest.mark.timeout(90)
def test_a_worker_whose_start_fails_tries_again_and_leads(tmp_path: Path, pg_url: str) -> None:
    """The database refuses the relay's first cursor (its table locked, and the worker's
    lock_timeout short): the worker logs it and tries again, as the processor in `serve`'s
    process does, rather than exiting; once the table is free it leads."""
    migrate_database(Settings(database_url=pg_url, data_dir=tmp_path / "migrate", demo=False))
    impatient = f"{pg_url}%20-clock_timeout%3D300"
    env = {"USERTRAIL_DEMO": "0", "USERTRAIL_DATABASE_URL": impatient}
    env["USERTRAIL_POSTHOG_HOST"] = "http://127.0.0.1:9"  # a relay: its cursor comes first
    worker = LiveWorker(tmp_path / "dätä dir", env=env)
    engine = create_engine(pg_url)
    try:
        with engine.connect() as conn:
            conn.execute(text("LOCK TABLE relay_cursors IN ACCESS EXCLUSIVE MODE"))
            worker.spawn()
            wait_for(lambda: logged(worker, "processor_lead_failed"), what="a failed start")
            assert worker.proc is not None
            assert worker.proc.poll() is None, "it exited"
            assert logged(worker, "worker_started") is None
            conn.rollback()  # the table is free
        worker.wait_started(timeout=30)
        assert worker.proc.poll() is None
    finally:
        worker.stop()
        engine.dispose()
