"""A real usertrail server in a subprocess on loopback, for tests that need the real thing."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

TOKEN = "phc_test_token_0123456789"
API_KEY = "utk_test_key_0123456789"
WEBHOOK_SECRET = "whs_test_secret_0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    data_dir: Path
    port: int = field(default_factory=free_port)
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "server.log"

    @property
    def db_path(self) -> Path:
        return self.data_dir / "usertrail.db"

    def start(self, timeout: float = 20) -> LiveServer:
        env = {
            **os.environ,
            "USERTRAIL_PROJECT_TOKEN": TOKEN,
            "USERTRAIL_API_KEY": API_KEY,
            "USERTRAIL_WEBHOOK_SECRET": WEBHOOK_SECRET,
            **self.env,
        }
        cmd = [
            sys.executable,
            "-m",
            "usertrail",
            "serve",
            "--port",
            str(self.port),
            "--data-dir",
            str(self.data_dir),
        ]
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:  # a file, not a pipe: a full pipe would block
            self.proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=log)
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                err = self.log_path.read_text(errors="replace")[-4000:]
                raise RuntimeError(f"usertrail exited with {self.proc.returncode}: {err}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise TimeoutError(f"usertrail did not become ready on {self.url}")

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
