"""CPU cost per role, from /proc: a process's CPU-seconds, and those of the PostgreSQL backends
serving it (found by the client ports of its own sockets in pg_stat_activity, so other users of
the same server are not counted). Linux only; PostgreSQL on this machine.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import create_engine, text

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of the process (all its threads) so far; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS


def local_ports(pid: int) -> set[int]:
    """The local TCP ports of the process's sockets."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            parts = line.split()
            if parts[9] in inodes:
                ports.add(int(parts[1].rsplit(":", 1)[1], 16))
    return ports


def backends_of(url: str, pids: list[int]) -> set[int]:
    """The PostgreSQL backend pids whose clients are sockets of these processes."""
    ports: set[int] = set().union(*(local_ports(pid) for pid in pids))
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            query = text("SELECT pid, client_port FROM pg_stat_activity")
            rows = [(int(r[0]), r[1]) for r in conn.execute(query)]
    finally:
        engine.dispose()
    return {pid for pid, port in rows if port in ports}


class RoleCpu:
    """CPU-seconds spent by some processes and their PostgreSQL backends since `start()`."""

    def __init__(self, url: str | None, pids: list[int]) -> None:
        self._url = url
        self._pids = pids
        self._start: dict[int, float] = {}
        self._backends: set[int] = set()

    def start(self) -> None:
        self._backends = backends_of(self._url, self._pids) if self._url else set()
        self._start = {pid: cpu_seconds(pid) for pid in (*self._pids, *self._backends)}

    def stop(self) -> tuple[float, float]:
        """(the processes' CPU-seconds, their backends'), since start()."""
        if self._url:  # backends opened since start (pool growth) count whole
            self._backends |= backends_of(self._url, self._pids)
        own = sum(cpu_seconds(p) - self._start.get(p, 0.0) for p in self._pids)
        pg = sum(cpu_seconds(p) - self._start.get(p, 0.0) for p in self._backends)
        return own, pg


def per_thousand(seconds: float, events: int) -> str:
    return f"{1000 * seconds / events:.3f}"
