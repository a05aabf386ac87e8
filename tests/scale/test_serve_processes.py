"""`usertrail serve --processes 2` on SQLite: two servers on one port and their processor.

The real posthog-python SDK streams events while the processor process is SIGKILLed (the
server starts another), then the second server (likewise), and then the first server itself
(its other processes must end with it) and it is started again on the same data. Every
acknowledged event must be stored, every stored one processed exactly once (the contexts
equal one clean in-process pass over the same raw log), and the processor's change notices
must still reach the servers' context caches.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from pathlib import Path

from posthog import Posthog

from tests.live import TOKEN, LiveServer, wait_for
from tests.scale.test_scale_out import (
    Sender,
    assert_served,
    embedded_contexts,
    stored_uuids,
    visit,
    wait_for_label,
    wait_until_processed,
)

USERS = 12
EVENTS = 600


def children(pid: int) -> list[int]:
    """The processes `pid` started (from any of its threads)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with (task / "children").open() as file:
            found += [int(child) for child in file.read().split()]
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def child_of(server: LiveServer, command: str) -> int:
    """The child process whose command line holds `command` ("worker" or "serve")."""
    assert server.proc is not None
    pid = server.proc.pid

    def find() -> int | None:
        for child in children(pid):
            with contextlib.suppress(FileNotFoundError):
                if f"\0{command}\0".encode() in Path(f"/proc/{child}/cmdline").read_bytes():
                    return child
        return None

    return wait_for(find, what=f"the {command} child process")


def stream(sender: Sender, server: LiveServer) -> None:
    """Anonymous visits, a login halfway, feature use; two kills in the middle."""
    for i in range(EVENTS):
        visit(sender, i, USERS, login_step=20)
        if i == 120:
            kill_child(server, "worker")
        if i == 200:
            kill_child(server, "serve")
        if i == 300:
            kill_server(server)
        if i == 350:
            server.start()  # same port and data: the SDK's retries find it again
        time.sleep(0.003)


def kill_child(server: LiveServer, command: str) -> None:
    """SIGKILL the processor or the second server; the first server starts a new one."""
    first = child_of(server, command)
    os.kill(first, signal.SIGKILL)
    wait_for(lambda: child_of(server, command) != first, what=f"a new {command} process")


def kill_server(server: LiveServer) -> None:
    """SIGKILL the first server; its children see their stdin close and end too."""
    others = [child_of(server, "worker"), child_of(server, "serve")]
    server.kill()
    wait_for(lambda: not any(map(alive, others)), what="the children to end with the server")


def test_serve_runs_its_processor_beside_it_and_survives_kills(tmp_path: Path) -> None:
    server = LiveServer(tmp_path / "data", env={"USERTRAIL_DEMO": "0"}, args=["--processes", "2"])
    server.start()
    try:
        assert child_of(server, "worker") != child_of(server, "serve")
        sender = Sender([server.url])
        stream(sender, server)
        acknowledged = sender.close()
        assert len(acknowledged) >= EVENTS * 0.9  # the SDK's retries got nearly all through

        url = f"sqlite:///{server.db_path}"
        stored = wait_until_processed(url)
        raw = stored_uuids(url, "raw_events")
        assert acknowledged <= raw  # nothing acknowledged was lost
        assert stored == len(raw)  # nothing stored twice
        assert stored_uuids(url, "events") == raw  # every stored event processed

        users = [f"user-{u}" for u in range(0, USERS, 3)]
        expected = asyncio.run(embedded_contexts(url, tmp_path, users))
        assert_served(server.url, expected)  # exactly once: the counts of one clean pass

        # The context above is cached in the server; the processor's notice must drop it.
        late = Posthog(TOKEN, host=server.url, sync_mode=True)
        late.capture("plan_selected", distinct_id="user-0", properties={"plan": "pro"})
        assert wait_for_label(server.url, "user-0", "plan selected", timeout=10)
    finally:
        server.stop()
