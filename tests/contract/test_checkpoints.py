"""Who copies SQLite's WAL into the database file: in all-in-one `serve`, the processor, whose
commits no client waits for, not capture (engine.make_engine `autocheckpoint`,
wiring._autocheckpoint)."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

from bench.workload import raw_events
from sqlalchemy import Engine, text

from usertrail.adapters.sql.engine import AUTOCHECKPOINT_PAGES, make_engine
from usertrail.settings import Settings
from usertrail.wiring import build_runtime

ROW = "x" * 3000  # about one page of WAL per row


def _commit_rows(engine: Engine, n: int) -> None:
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS filler (body TEXT)"))
    for _ in range(n):  # one commit each: the WAL grows, frame after frame
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO filler (body) VALUES (:body)"), {"body": ROW})


def test_a_writer_with_a_higher_threshold_leaves_the_wal_to_the_one_with_the_default(
    tmp_path: Path,
) -> None:
    db = tmp_path / "db.sqlite"
    url = f"sqlite:///{db}"
    capture = make_engine(url, writer=True, autocheckpoint=AUTOCHECKPOINT_PAGES * 8)
    processor = make_engine(url, writer=True)
    try:
        _commit_rows(capture, AUTOCHECKPOINT_PAGES * 3 // 2)
        # Past SQLite's default threshold, and still only in the WAL: the capture side's
        # commits copied nothing into the database file.
        wal_pages = Path(f"{db}-wal").stat().st_size // 4096
        assert wal_pages > AUTOCHECKPOINT_PAGES
        assert db.stat().st_size < 100 * 4096

        _commit_rows(processor, 1)
        # The processor's one commit checkpointed all of it.
        assert db.stat().st_size > AUTOCHECKPOINT_PAGES * 4096
    finally:
        capture.dispose()
        processor.dispose()


def test_a_server_beside_its_processor_leaves_checkpoints_to_it(tmp_path: Path) -> None:
    """Both sides as `serve` builds them: the server's appends grow the WAL past SQLite's
    threshold and copy nothing; the processor's slices checkpoint."""
    settings = Settings(data_dir=tmp_path, demo=False)
    db = tmp_path / "usertrail.db"
    server_end, processor_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    serving = build_runtime(settings, "serving", [server_end.detach()])
    processor = build_runtime(settings, "processor", [processor_end.detach()])
    events = raw_events(serving.default_project.id, 600, 7)
    with asyncio.Runner() as loop:
        try:
            start = db.stat().st_size
            for event in events:  # a commit each, as at one connection
                loop.run(serving.event_log.append([event]))
            assert Path(f"{db}-wal").stat().st_size // 4096 > AUTOCHECKPOINT_PAGES
            assert db.stat().st_size == start

            loop.run(processor.processor.drain())
            # The raw log's pages, and the derived ones, copied in (about 260 here).
            assert db.stat().st_size > start + 100 * 4096
        finally:
            loop.run(serving.close())
            loop.run(processor.close())
