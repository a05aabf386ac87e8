"""`serve`'s processor process runs at a lower priority than its server (settings
`processor_nice`): when the cores are short, capture gets the larger share."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.live import LiveServer
from tests.scale.test_serve_processes import child_of


def niceness(pid: int) -> int:
    """Field 19 of /proc/<pid>/stat, counted after the command name's closing parenthesis."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[16])


@pytest.mark.parametrize(("setting", "lower_by"), [(None, 5), ("0", 0), ("11", 11)])
def test_the_processor_process_runs_that_much_nicer_than_its_server(
    tmp_path: Path, setting: str | None, lower_by: int
) -> None:
    env = {"USERTRAIL_DEMO": "0"}
    if setting is not None:
        env["USERTRAIL_PROCESSOR_NICE"] = setting
    server = LiveServer(tmp_path / "data", env=env).start()
    try:
        assert server.proc is not None
        own = niceness(server.proc.pid)
        assert own == os.getpriority(os.PRIO_PROCESS, 0)  # the server keeps the caller's
        assert niceness(child_of(server, "worker")) == min(own + lower_by, 19)
    finally:
        server.stop()
