"""`usertrail serve`'s processor in a process of its own, beside the serving process.

In one process, the processor's derive and store steps took the GIL (and the event loop)
from capture: an all-in-one server answered single events at a third of `--role ingest`'s
rate. Here `serve` starts `usertrail worker --beside-serve` and keeps it running: the
child follows the same database, is woken after each commit and tells the server which
persons changed (adapters.local_notices). It reads its stdin until end of file, so it ends
with its parent, even a killed one. Durability and exactly-once are the worker's, as in
scale-out: the raw log commits before the 2xx, the processor's cursor moves with its slice.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import structlog

from usertrail.settings import Settings

log = structlog.get_logger("usertrail")
EXIT_TAKEN = 3  # another processor follows this database already: try again later
RESTART_AFTER_S = 0.5


def wanted(settings: Settings) -> bool:
    """Only for the embedded all-in-one role, on Linux (abstract sockets), with cores to use."""
    from usertrail.wiring import local_notices_supported

    return (
        settings.processor_process
        and settings.role == "all"
        and not settings.bus_url
        and local_notices_supported()
        and (os.cpu_count() or 1) > 1
    )


class ProcessorProcess:
    """Starts the child, starts it again when it ends, and stops it with the server."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._stopping = threading.Event()
        self._child: subprocess.Popen[bytes] | None = None
        self._thread = threading.Thread(target=self._keep_running, name="processor", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stopping.set()
        child = self._child
        if child is not None and child.stdin is not None:
            child.stdin.close()  # end of file: the child finishes its slice and exits
            try:
                child.wait(timeout_s)
            except subprocess.TimeoutExpired:
                child.kill()
        self._thread.join(timeout_s)

    def _keep_running(self) -> None:
        while not self._stopping.is_set():
            self._child = subprocess.Popen(
                self._command(), stdin=subprocess.PIPE, env=self._environment()
            )
            code = self._child.wait()
            if self._stopping.is_set():
                return
            if code != EXIT_TAKEN:
                log.warning("processor_process_ended", exit_code=code)
            time.sleep(RESTART_AFTER_S)

    def _command(self) -> list[str]:
        settings = self._settings
        command = [sys.executable, "-m", "usertrail", "worker", "--beside-serve"]
        command += ["--data-dir", str(settings.data_dir)]
        if settings.project_file is not None:
            command += ["--project-file", str(settings.project_file)]
        return command

    def _environment(self) -> dict[str, str]:
        """The server's settings that shape processing (the demo's config names its URL)."""
        settings = self._settings
        return {
            **os.environ,
            "USERTRAIL_HOST": settings.host,
            "USERTRAIL_PORT": str(settings.port),
            "USERTRAIL_DEMO": "1" if settings.demo else "0",
        }
