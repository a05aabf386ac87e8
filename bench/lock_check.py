"""What the processor's lock check costs a slice on PostgreSQL (ProcessorLock.still_held).

Before each slice the leading processor asks whether it still holds the processor lock: a
poll of the lock session's socket (no roundtrip; a terminated or restarted server makes it
readable), and a `SELECT 1` on that session only when it is not quiet, as the check each
second does. Printed: the awaited check on a quiet session, a bare poll, and the roundtrip
it saves. Needs the test PostgreSQL (tests.backends). Run: `python -m bench.lock_check`.
"""

from __future__ import annotations

import asyncio
import tempfile
import timeit
from pathlib import Path

from tests.backends import pg_schema_url

from usertrail.adapters.processor_lock import ProcessorLock, processor_lock
from usertrail.adapters.sql.engine import make_engine
from usertrail.adapters.sql.leader import LeaderLock

CHECKS = 20_000
ROUNDTRIPS = 2_000


async def _checks(lock: ProcessorLock) -> float:
    """Seconds per awaited still_held(), as the processor awaits it."""
    start = timeit.default_timer()
    for _ in range(CHECKS):
        assert await lock.still_held()
    return (timeit.default_timer() - start) / CHECKS


def main() -> None:
    with pg_schema_url() as url, tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(url, writer=True)
        database = LeaderLock(engine, "usertrail:processor")
        lock = ProcessorLock(processor_lock(Path(tmp), url), 1, database)
        try:
            assert lock.try_take()
            per_check = asyncio.run(_checks(lock))
            poll = timeit.timeit(database.quiet, number=CHECKS) / CHECKS
            roundtrip = timeit.timeit(lock.confirm, number=ROUNDTRIPS) / ROUNDTRIPS
        finally:
            lock.release()
            engine.dispose()
    print(f"still_held, quiet session: {per_check * 1e6:.2f} us per slice")
    print(f"  of which the poll:       {poll * 1e6:.2f} us")
    print(f"confirm (SELECT 1):        {roundtrip * 1e6:.0f} us")


if __name__ == "__main__":
    main()
