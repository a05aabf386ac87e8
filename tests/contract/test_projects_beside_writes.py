"""A server's first write (the project registry's `ensure`) while another process writes the
same SQLite database without pause: it waits its turn, as every other write does.

A plain BEGIN that reads and then writes must upgrade its lock, and SQLite refuses that at
once ("database is locked", no busy wait) when another connection committed after the read:
a `serve` started beside a busy one failed here for as long as the load lasted."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import insert

from usertrail.adapters.sql.engine import create_schema, make_engine
from usertrail.adapters.sql.projects import SqlProjects
from usertrail.adapters.sql.tables import raw_events

ROUNDS = 200


def test_ensure_waits_for_a_busy_writer_instead_of_failing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'usertrail.db'}"
    writes = make_engine(url, writer=True)
    create_schema(writes)
    reads = make_engine(url)
    registry = SqlProjects(reads, writes)
    registry.ensure("p1", "Busy", token="phc_first")
    other = make_engine(url, writer=True)  # the other server's writer, committing all along
    stop = threading.Event()

    def write_all_along() -> None:
        n = 0
        while not stop.is_set():
            with other.begin() as conn:
                conn.execute(insert(raw_events), [_row(n)])
            n += 1

    writer = threading.Thread(target=write_all_along)
    writer.start()
    try:
        for i in range(ROUNDS):  # each writes: a token it does not hold yet
            project, created = registry.ensure("p1", "Busy", token=f"phc_{i}")
            assert (project.token, created) == (f"phc_{i}", False)
    finally:
        stop.set()
        writer.join()
        for engine in (writes, reads, other):
            engine.dispose()


def _row(n: int) -> dict[str, object]:
    return {
        "project_id": "p1",
        "uuid": f"00000000-0000-4000-8000-{n:012d}",
        "event": "clicked",
        "distinct_id": "u/ü",
        "ts_us": n,
        "received_us": n,
        "source": "capture",
        "ip": None,
        "body": b"{}",
    }
