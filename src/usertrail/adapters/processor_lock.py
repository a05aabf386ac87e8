"""The lock that keeps one processor per database (without the bus), and whose it is.

Two parts. A file lock in the data directory (processor-<sha of the url>.lock), which also
holds the pid of the server the holder processes for, so that a second `serve` on the same
data directory can name it. On PostgreSQL, also a session advisory lock in the database
(adapters.sql.leader, "usertrail:processor"): two `serve`s or workers on one database but
different data directories (two containers, each its own volume) never see each other's
file, and without it both processed every event.

Both are taken together or not at all: a process that gets the file but not the database's
lock lets the file go again, emptied (the holder is elsewhere: its pid is not known here).
The database's lock ends with its session (a PostgreSQL restart, a terminated backend):
the holder learns it at its next `confirm` or `still_held`, and stops leading.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import threading
from pathlib import Path
from typing import IO, Protocol

from usertrail.data_lock import open_owner_only


class ProcessorTaken(Exception):
    """Another processor already follows this database."""


class DatabaseLock(Protocol):
    """The database-wide part (adapters.sql.leader.LeaderLock)."""

    def try_acquire(self) -> bool:
        """Held (now or already, its session asked), or False; never waits."""
        ...

    def quiet(self) -> bool:
        """Held, and nothing heard from the server on its session (no roundtrip)."""
        ...

    def release(self) -> None: ...


class ProcessorLock:
    """The processor lock of one process: the file lock, and the database's where there is
    one. Blocking calls (try_take, confirm) go off the event loop (take, confirmed)."""

    def __init__(self, path: Path, server_pid: int, database: DatabaseLock | None = None) -> None:
        self._path = path
        self._server_pid = server_pid
        self._database = database
        self._file: IO[str] | None = None
        self._mutex = threading.Lock()  # a check in a thread, a release on the loop

    @property
    def held(self) -> bool:
        return self._file is not None

    def try_take(self) -> bool:
        """Held (now or already), or False: another process holds it."""
        with self._mutex:
            if self._file is None:
                self._file = self._take()
            return self._file is not None

    def _take(self) -> IO[str] | None:
        try:
            handle = _hold(self._path)
        except ProcessorTaken:
            return None
        try:
            taken = self._database is None or self._database.try_acquire()
        except BaseException:
            handle.close()
            raise
        if not taken:
            handle.close()  # emptied: the holder is in another data directory
            return None
        _claim(handle, self._server_pid)
        return handle

    def confirm(self) -> bool:
        """Still held, as the database says (a roundtrip on the lock's session). When it is
        lost, the file lock goes too: whoever stands by on this data directory may take both."""
        with self._mutex:
            database = self._database
            if self._file is not None and database is not None and not database.try_acquire():
                self._release()
            return self._file is not None

    async def take(self) -> bool:
        if self._database is None:
            return self.try_take()
        return await asyncio.to_thread(self.try_take)

    async def confirmed(self) -> bool:
        if self._database is None:
            return self.held
        return await asyncio.to_thread(self.confirm)

    async def still_held(self) -> bool:
        """At each slice: no roundtrip while the lock's session is quiet (a poll)."""
        if not self.held:
            return False
        if self._database is None or self._database.quiet():
            return True
        return await self.confirmed()

    def holder(self) -> int | None:
        """The server whose processor holds the lock, as the lock file says (None: not
        known; the holder is in another data directory, or none)."""
        try:
            return pid_in(self._path.read_bytes())
        except OSError:
            return None

    def release(self) -> None:
        with self._mutex:
            self._release()

    def _release(self) -> None:
        if self._database is not None:
            self._database.release()
        if self._file is not None:
            with contextlib.suppress(OSError):  # this process's pid names no holder now
                self._file.truncate(0)
            self._file.close()
            self._file = None


def processor_lock(data_dir: Path, database_url: str) -> Path:
    """The file whose lock keeps one processor per database."""
    digest = hashlib.sha256(database_url.encode()).hexdigest()[:24]
    return data_dir / f"processor-{digest}.lock"


def _hold(path: Path) -> IO[str]:
    """The file lock, held until the returned file is closed, or the process ends however it
    ends; ProcessorTaken if another process (or file of this one) holds it. Emptied at once:
    while the holder is not known yet, whoever reads it learns nothing stale."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open_owner_only(path)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise ProcessorTaken(str(path)) from None
    handle.truncate(0)
    return handle


def _claim(handle: IO[str], server_pid: int) -> None:
    """Whose it is, for a second `serve` standing by: the server this processor runs for."""
    handle.write(f"{server_pid}\n")
    handle.flush()


def pid_in(text: bytes) -> int | None:
    """A pid as the lock file or a STANDBY datagram holds it (anything else: unknown)."""
    digits = text.strip()
    return int(digits) if digits.isdigit() and len(digits) <= 10 else None
