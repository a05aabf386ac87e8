"""Keep `usertrail replay` off a data directory a live server or worker is using.

Every `serve` and `worker` holds a shared `flock` on `<data dir>/usertrail.lock` for its
lifetime; `replay`, which drops derived state before rebuilding it, needs the lock exclusively.
The kernel releases a process's locks when it exits, however it exits (kill -9 included), so a
crash never leaves a stale lock behind. This guards SQLite under the data directory; on
PostgreSQL, where processes share no directory, a session advisory lock does the same
(adapters.sql.live_lock).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import IO

from usertrail.settings import Settings

LOCK_FILE = "usertrail.lock"
REPLAY_RUNNING = "a `usertrail replay` is rebuilding this data; start when it is done"
DATA_IN_USE = (
    "a usertrail server or worker is using this data; stop it first "
    "(replay drops derived state while it rebuilds), or pass --force"
)


class DataDirBusy(Exception):
    """The lock is held in the other mode: a server is live, or a replay is running."""

    def __init__(self, path: Path, detail: str) -> None:
        super().__init__(detail)
        self.path = path
        self.detail = detail


def guards(settings: Settings) -> bool:
    """Only SQLite keeps its database under the data directory."""
    return settings.sqlalchemy_url().startswith("sqlite")


def hold_while_serving(settings: Settings) -> IO[str] | None:
    """A shared lock, kept while the returned file stays open (the process's lifetime)."""
    if not guards(settings):
        return None
    return _lock(settings.data_dir, fcntl.LOCK_SH, REPLAY_RUNNING)


def hold_exclusively(settings: Settings) -> IO[str] | None:
    """The lock `replay` needs: refused while any server or worker holds it shared."""
    if not guards(settings):
        return None
    return _lock(settings.data_dir, fcntl.LOCK_EX, DATA_IN_USE)


def _lock(data_dir: Path, mode: int, detail: str) -> IO[str]:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / LOCK_FILE
    handle = open_owner_only(path)
    try:
        fcntl.flock(handle, mode | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise DataDirBusy(path, detail) from None
    return handle


def open_owner_only(path: Path) -> IO[str]:
    """A lock file only its owner may open: flock needs no write access, so another local
    user who could read it could also lock it and keep every server from starting. One made
    readable by an older version is narrowed."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    with contextlib.suppress(PermissionError):  # not ours: its owner decides
        os.fchmod(fd, 0o600)
    return os.fdopen(fd, "w")
