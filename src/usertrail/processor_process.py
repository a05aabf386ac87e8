"""`usertrail serve`'s other processes: its processor, and more servers on the same port.

In one process, the processor's derive and store steps took the GIL (and the event loop)
from capture: an all-in-one server answered single events at half of `--role ingest`'s
rate. So `serve` starts `usertrail worker --beside-serve` and keeps it running: the child
follows the same database, is woken after each commit and tells every server which persons
changed (adapters.local_notices: socket pairs `serve` makes and its children inherit, so
no name another local user could take first). A second `serve` on the same data directory
is ready too; its processor stands by until the first one's ends (services.leadership),
while the first one processes what both capture. With `--processes N`, N-1 more servers answer
on the listening socket this one bound (the kernel hands each connection to one of them).
Every child reads its stdin until end of file, so it ends with its parent, even a killed one.
Durability and exactly-once are unchanged: each server commits the raw events before its
2xx, and the one processor moves its cursor with each slice, as in scale-out.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time

import structlog

from usertrail.settings import Settings

log = structlog.get_logger("usertrail")
RESTART_AFTER_S = 0.5


def wanted(settings: Settings) -> bool:
    """Only for the embedded all-in-one role, on Linux (SO_PASSCRED), with cores to use."""
    from usertrail.wiring import local_notices_supported

    return (
        settings.processor_process
        and settings.role == "all"
        and not settings.bus_url
        and local_notices_supported()
        and (os.cpu_count() or 1) > 1
    )


class ChildProcess:
    """Starts a child, starts it again when it ends, and stops it with this process."""

    def __init__(
        self, name: str, command: list[str], env: dict[str, str], pass_fds: tuple[int, ...] = ()
    ) -> None:
        self._name = name
        self._command = command
        self._env = env
        self._pass_fds = pass_fds
        self._stopping = threading.Event()
        self._child: subprocess.Popen[bytes] | None = None
        self._thread = threading.Thread(target=self._keep_running, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stopping.set()
        child = self._child
        if child is not None and child.stdin is not None:
            child.stdin.close()  # end of file: the child finishes what it does and exits
            try:
                child.wait(timeout_s)
            except subprocess.TimeoutExpired:
                child.kill()
        self._thread.join(timeout_s)

    def _keep_running(self) -> None:
        while not self._stopping.is_set():
            self._child = subprocess.Popen(
                self._command, stdin=subprocess.PIPE, env=self._env, pass_fds=self._pass_fds
            )
            code = self._child.wait()
            if self._stopping.is_set():
                return
            log.warning("child_process_ended", child=self._name, exit_code=code)
            time.sleep(RESTART_AFTER_S)


def processor(settings: Settings, notices: list[socket.socket]) -> ChildProcess:
    """The processor, on its ends of the servers' notice sockets (local_notices.channels)."""
    fds = tuple(sock.fileno() for sock in notices)
    command = [sys.executable, "-m", "usertrail", "worker", "--beside-serve"]
    command += ["--notice-fds", ",".join(map(str, fds)), *_data_flags(settings)]
    return ChildProcess("processor", command, _environment(settings), pass_fds=fds)


def server(
    settings: Settings, listener: socket.socket, notices: socket.socket | None
) -> ChildProcess:
    """One more server answering on `listener` (bound here, inherited by the child), and
    talking to the processor on `notices` when one runs beside it."""
    fds: tuple[int, ...] = (listener.fileno(),)
    command = [sys.executable, "-m", "usertrail", "serve", "--listen-fd", str(fds[0])]
    if notices is not None:
        fds += (notices.fileno(),)
        command += ["--notice-fd", str(notices.fileno())]
    command += ["--role", settings.role, *_data_flags(settings)]
    return ChildProcess("server", command, _environment(settings), pass_fds=fds)


def _data_flags(settings: Settings) -> list[str]:
    flags = ["--data-dir", str(settings.data_dir)]
    if settings.project_file is not None:
        flags += ["--project-file", str(settings.project_file)]
    return flags


def _environment(settings: Settings) -> dict[str, str]:
    """The server's settings that shape processing (the demo's config names its URL)."""
    return {
        **os.environ,
        "USERTRAIL_HOST": settings.host,
        "USERTRAIL_PORT": str(settings.port),
        "USERTRAIL_DEMO": "1" if settings.demo else "0",
    }
