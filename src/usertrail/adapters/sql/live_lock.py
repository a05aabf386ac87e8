"""Keep `usertrail replay` off a PostgreSQL database that live processes use.

Every `serve` and `worker` holds a session advisory lock *shared* on its own connection for
its lifetime; `replay`, which drops derived state before rebuilding it, needs the same lock
*exclusively*. The key is per schema (as the leader locks), and a process that dies closes its
session, which releases its locks. On SQLite the data directory's `flock` does the same job
(usertrail.data_lock), so here the lock is always granted.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine

NAME = "usertrail:live"


class LiveLock:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._conn: Connection | None = None

    def try_hold(self, *, exclusive: bool) -> bool:
        """True if held (never waits); kept until `release` or the process ends."""
        if self._engine.dialect.name != "postgresql":
            return True
        take = "pg_try_advisory_lock" if exclusive else "pg_try_advisory_lock_shared"
        conn = self._engine.connect()
        held = bool(
            conn.exec_driver_sql(
                f"SELECT {take}(hashtextextended(current_schema() || ':' || %s, 0))", (NAME,)
            ).scalar_one()
        )
        conn.commit()
        if held:
            self._conn = conn
        else:
            conn.close()
        return held

    def release(self) -> None:
        if self._conn is not None:
            self._conn.invalidate()  # ends the session, and with it the lock
            self._conn = None
