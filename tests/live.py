"""A real usertrail server in a subprocess on loopback, for tests that need the real thing."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from subprocess import Popen
from typing import TypeVar

import httpx

T = TypeVar("T")
TOKEN = "phc_test_token_0123456789"
API_KEY = "utk_test_key_0123456789"
WEBHOOK_SECRET = "whs_test_secret_0123456789"


def wait_for(check: Callable[[], T | None], timeout: float = 15, what: str = "condition") -> T:
    """Poll `check` until it returns something truthy (returned), or fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Process:
    """A usertrail subprocess: stopped politely, or killed the way a crash would."""

    proc: Popen[bytes] | None

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no flush; what survives is what was durable."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class LiveServer(_Process):
    data_dir: Path
    port: int = field(default_factory=free_port)
    env: dict[str, str] = field(default_factory=dict)
    args: list[str] = field(default_factory=list)  # more CLI flags, e.g. ["--role", "ingest"]
    proc: subprocess.Popen[bytes] | None = None
    log_name: str = "server.log"  # under data_dir (two servers on one data dir: two names)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / self.log_name

    @property
    def db_path(self) -> Path:
        return self.data_dir / "usertrail.db"

    def start(self, timeout: float = 20, probe: str = "/readyz") -> LiveServer:
        cmd = [
            sys.executable,
            "-m",
            "usertrail",
            "serve",
            "--port",
            str(self.port),
            "--data-dir",
            str(self.data_dir),
            *self.args,
        ]
        self.proc = _spawn(cmd, self.env, self.data_dir, self.log_path)
        self._wait_ready(timeout, probe)
        return self

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """A `usertrail` command on this server's data, with its settings."""
        command = [sys.executable, "-m", "usertrail", *args, "--data-dir", str(self.data_dir)]
        return subprocess.run(
            command, check=True, capture_output=True, text=True, env=_environment(self.env)
        )

    def _wait_ready(self, timeout: float, probe: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                err = self.log_path.read_text(errors="replace")[-4000:]
                raise RuntimeError(f"usertrail exited with {self.proc.returncode}: {err}")
            try:
                if httpx.get(f"{self.url}{probe}", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise TimeoutError(f"usertrail did not become ready on {self.url}")


def _environment(env: dict[str, str]) -> dict[str, str]:
    """The test credentials, then the caller's settings."""
    return {
        **os.environ,
        "USERTRAIL_PROJECT_TOKEN": TOKEN,
        "USERTRAIL_API_KEY": API_KEY,
        "USERTRAIL_WEBHOOK_SECRET": WEBHOOK_SECRET,
        **env,
    }


def _spawn(cmd: list[str], env: dict[str, str], data_dir: Path, log_path: Path) -> Popen[bytes]:
    data_dir.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:  # a file, not a pipe: a full pipe would block
        return subprocess.Popen(cmd, env=_environment(env), stdout=log, stderr=log)


@dataclass
class LiveWorker(_Process):
    """`usertrail worker` in a subprocess: the processor, deliveries and sinks."""

    data_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    proc: Popen[bytes] | None = None
    log_name: str = "worker.log"  # under data_dir (two workers on one data dir: two names)

    @property
    def log_path(self) -> Path:
        return self.data_dir / self.log_name

    def start(self, timeout: float = 20) -> LiveWorker:
        self.spawn()
        return self.wait_started(timeout)

    def spawn(self) -> None:
        cmd = [sys.executable, "-m", "usertrail", "worker", "--data-dir", str(self.data_dir)]
        self.proc = _spawn(cmd, self.env, self.data_dir, self.log_path)

    def wait_started(self, timeout: float = 20) -> LiveWorker:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while "worker_started" not in self.log_path.read_text(errors="replace"):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                err = self.log_path.read_text(errors="replace")[-4000:]
                raise RuntimeError(f"usertrail worker did not start: {err}")
            time.sleep(0.05)
        return self
