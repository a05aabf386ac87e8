"""One process at a time: a PostgreSQL session advisory lock held on its own connection.

Used for work that must not run twice at once across workers (appending to a sink file).
On SQLite every process shares one data directory and writes take the database lock, so a
single `usertrail worker` is the deployment and the lock is always granted.
"""

from __future__ import annotations

import select

from sqlalchemy import Connection, Engine


class LeaderLock:
    def __init__(self, engine: Engine, name: str) -> None:
        self._engine = engine
        self._name = name
        self._conn: Connection | None = None

    def try_acquire(self) -> bool:
        """True if this process holds the lock (now or already); never waits."""
        if self._engine.dialect.name != "postgresql":
            return True
        if self._conn is not None:
            return self._still_held()
        conn = self._engine.connect()
        held: bool = conn.exec_driver_sql(
            "SELECT pg_try_advisory_lock(hashtextextended(current_schema() || ':' || %s, 0))",
            (self._name,),
        ).scalar_one()
        conn.commit()
        if held:
            self._conn = conn
        else:
            conn.close()
        return bool(held)

    def _still_held(self) -> bool:
        """A dropped connection releases the lock on the server: stop acting as leader."""
        assert self._conn is not None
        try:
            self._conn.exec_driver_sql("SELECT 1")
            self._conn.commit()
        except Exception:
            self._conn.invalidate()
            self._conn = None
            return False
        return True

    def quiet(self) -> bool:
        """Held, and nothing heard on the lock's session since: a poll of its socket, no
        roundtrip. An idle session is sent nothing, but a server ending it (a terminated
        backend, a shutdown) says so and closes it, which makes the socket readable."""
        conn = self._conn
        if conn is None:
            return False
        try:
            fd = conn.connection.driver_connection.fileno()  # type: ignore[union-attr]
        except Exception:  # closed meanwhile: not quiet, ask (try_acquire)
            return False
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        return not poller.poll(0)

    def release(self) -> None:
        if self._conn is not None:
            # Closing the session releases its advisory locks; close() would only return the
            # connection, lock and all, to the pool.
            self._conn.invalidate()
            self._conn = None
