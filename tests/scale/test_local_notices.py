"""`serve`'s processor socket: nameless, so no other local user can take it first, and what
reaches it from another user is dropped anyway (SO_PASSCRED)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import signal
import socket
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import pytest
from posthog import Posthog

from tests.factories import make_event, make_raw
from tests.live import API_KEY, TOKEN, LiveServer, wait_for
from tests.scale.test_scale_out import wait_for_label
from tests.scale.test_serve_processes import child_of, children
from tests.services.test_context_cache import context_for
from usertrail.adapters.local_notices import (
    CHANGED,
    ProcessorNotices,
    ServingNotices,
    _chunks,
    channels,
)
from usertrail.adapters.processor_lock import ProcessorLock
from usertrail.core.context.build import ContextOptions
from usertrail.model.event import EVERYONE, Changed, Event, PersonId
from usertrail.services.context_cache import ContextCache

NOBODY = 65534
needs_root = pytest.mark.skipif(os.getuid() != 0, reason="acting as another user needs root")


def held_by_parent(path: Path) -> ProcessorLock:
    """The lock as `serve`'s processor takes it: for the server that started it."""
    return ProcessorLock(path, os.getppid())


def changed(distinct_id: str) -> bytes:
    [datagram] = _chunks([make_event(make_raw(distinct_id=distinct_id, project_id="p1"))])
    assert datagram.startswith(CHANGED)
    return datagram


def send_as(uid: int, datagram: bytes, sock: socket.socket) -> None:
    """From a forked child that inherited `sock` and takes `uid` (it only makes system
    calls, then exits)."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.setuid(uid)
            sock.send(datagram)
            code = 0
        finally:
            os._exit(code)
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0


@needs_root
async def test_a_notice_from_another_user_is_dropped_and_ones_own_is_heard(
    tmp_path: Path,
) -> None:
    [(own, end)] = channels(1)
    notices = ProcessorNotices(
        [end.detach()], held_by_parent(tmp_path / "processor.lock"), linger_s=0
    )
    heard: list[str] = []
    got_own = asyncio.Event()

    def deliver(changes: Sequence[Changed]) -> None:
        heard.extend(c.distinct_id for c in changes if isinstance(c, Event))
        got_own.set()

    listening = asyncio.create_task(notices.listen(deliver))
    try:
        send_as(NOBODY, changed("forged"), own)  # e.g. a leaked descriptor
        send_as(os.getuid(), changed("genuine"), own)
        # Datagrams on one socket arrive in order: once the genuine one is heard, the forged
        # one, sent first, has been read and refused.
        await asyncio.wait_for(got_own.wait(), 30)
        assert heard == ["genuine"]
    finally:
        listening.cancel()
        await asyncio.gather(listening, return_exceptions=True)
        await notices.aclose()
        own.close()


async def test_a_second_processor_on_one_database_stands_by_until_the_first_ends(
    tmp_path: Path,
) -> None:
    lock = tmp_path / "processor.lock"
    [(first_own, first_end), (own, second_end)] = channels(2)
    first = ProcessorNotices([first_end.detach()], held_by_parent(lock))
    second = ProcessorNotices([second_end.detach()], held_by_parent(lock))
    serving = ServingNotices(own.detach())
    standing: asyncio.Queue[tuple[bool, str]] = asyncio.Queue()  # on_standby's calls

    def heard(standby: bool) -> None:
        standing.put_nowait((standby, serving.processor))

    serving.on_standby = heard
    tasks = [asyncio.create_task(second.listen(lambda _c: None))]
    tasks.append(asyncio.create_task(serving.listen(lambda _c: None)))
    try:
        assert first.leading
        assert not second.leading
        assert not await second.try_lead()
        # Its server hears that it stands by, and whose processor runs (the lock file's pid:
        # the process beside which the holder runs, this test's parent here).
        assert await asyncio.wait_for(standing.get(), 10) == (True, "standby")
        assert serving.leader_pid == os.getppid()
        await first.aclose()  # the first ends: the lock is free
        assert await second.try_lead()
        assert await asyncio.wait_for(standing.get(), 10) == (False, "running")  # at once
        assert serving.leader_pid is None
    finally:
        await stop(tasks, second, serving)
        first_own.close()
    assert lock.stat().st_mode & 0o077 == 0  # nobody else can open it, so nor lock it


# A changed person (non-ASCII, '/', NUL, 1,200 characters), and about 2 MB of other changes
# sent first: some 35 datagrams, far more than a reader's queue holds (net.unix.max_dgram_qlen
# is 10 by default, and the sender's buffer holds fewer of this size).
HOSTILE = "😀/\x00é" * 300
BURST = [PersonId(project_id="p1", distinct_id=f"{i}/" + "x" * 20_000) for i in range(100)]


class Hearer:
    """A process's listener: what it heard, notice by notice, into a real ContextCache that
    holds the changed person's context."""

    def __init__(self) -> None:
        self.heard: list[list[Changed]] = []
        self.everyone = asyncio.Event()
        self.cache = ContextCache()
        self.key = ("p1", HOSTILE, ContextOptions())
        self.cache.put(self.key, context_for(HOSTILE))

    def deliver(self, changes: Sequence[Changed]) -> None:
        self.heard.append(list(changes))
        self.cache.invalidate(changes)
        if EVERYONE in changes:
            self.everyone.set()

    def heard_of(self, change: Changed) -> bool:
        return any(change in notice for notice in self.heard)


async def stop(
    listeners: Sequence[asyncio.Task[None]], *ends: ProcessorNotices | ServingNotices
) -> None:
    """A test's teardown: its listeners cancelled and ended, then its sockets' ends closed."""
    for task in listeners:
        task.cancel()
    await asyncio.gather(*listeners, return_exceptions=True)
    for end in ends:
        await end.aclose()


async def test_notices_a_full_queue_refused_reach_the_server_as_everyone_after_them(
    tmp_path: Path,
) -> None:
    [(own, end)] = channels(1)
    fd = end.detach()
    processor = ProcessorNotices([fd], held_by_parent(tmp_path / "processor.lock"), linger_s=0)
    serving = ServingNotices(own.detach())
    server = Hearer()
    event = make_event(make_raw(distinct_id=HOSTILE, project_id="p1"))
    processor.publish(BURST)  # the server is not reading yet: its queue fills
    processor.publish([event])  # refused too
    listening = asyncio.create_task(serving.listen(server.deliver))
    try:
        await asyncio.wait_for(server.everyone.wait(), 10)
        await asyncio.sleep(0.05)  # nothing after it
        assert server.heard[-1] == [EVERYONE]
        assert len(server.heard) > 1  # what the queue held came first
        assert not server.heard_of(event)  # refused: EVERYONE stands for it
        assert server.cache.get(server.key) is None
        assert not asyncio.get_running_loop().remove_writer(fd)  # paid, so unregistered
    finally:
        await stop([listening], processor, serving)


async def test_an_erasure_a_full_queue_refused_reaches_the_processor_and_servers_as_everyone(
    tmp_path: Path,
) -> None:
    [(own, end), (other_own, other_end)] = channels(2)
    processor = ProcessorNotices(
        [end.detach(), other_end.detach()], held_by_parent(tmp_path / "processor.lock"), linger_s=0
    )
    serving, other = ServingNotices(own.detach()), ServingNotices(other_own.detach())
    erased = PersonId(project_id="p1", distinct_id=HOSTILE)
    serving.publish(BURST)  # the processor is not reading yet: its queue fills
    serving.publish([erased])  # refused too
    heard, server = Hearer(), Hearer()  # the processor, and the other server
    tasks = [asyncio.create_task(processor.listen(heard.deliver))]
    tasks.append(asyncio.create_task(other.listen(server.deliver)))
    try:
        await asyncio.wait_for(heard.everyone.wait(), 10)
        assert heard.heard[-1] == [EVERYONE]
        assert not heard.heard_of(erased)
        await asyncio.wait_for(server.everyone.wait(), 10)  # passed on by the processor
        assert server.cache.get(server.key) is None
    finally:
        await stop(tasks, processor, serving, other)


async def test_a_socket_closed_while_it_owes_everyone_calls_nothing_back(
    tmp_path: Path,
) -> None:
    [(own, end)] = channels(1)
    fd = end.detach()
    processor = ProcessorNotices([fd], held_by_parent(tmp_path / "processor.lock"), linger_s=0)
    processor.publish(BURST)  # nobody reads: it owes EVERYONE
    await processor.aclose()
    own.close()
    assert not asyncio.get_running_loop().remove_writer(fd)


def squat(address: bytes) -> int:
    """A child that becomes `nobody`, binds `address` and holds it until killed."""
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.setuid(NOBODY)
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            sock.bind(address)
            os.write(ready_w, b"1")
            while True:
                time.sleep(1)
        finally:
            os._exit(1)
    os.close(ready_w)
    assert os.read(ready_r, 1) == b"1", "the squatter could not bind"
    os.close(ready_r)
    return pid


@pytest.fixture
def squatter(tmp_path: Path) -> Iterator[Path]:
    """Another local user holding the name the processor's socket had (derived from the
    database URL, so anyone could compute it)."""
    data = tmp_path / "data"
    url = f"sqlite:///{data / 'usertrail.db'}"
    digest = hashlib.sha256(url.encode()).hexdigest()[:24]
    pid = squat(b"\0usertrail-processor-" + digest.encode())
    try:
        yield data
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def reached_as(uid: int, address: bytes) -> bool:
    """Whether a forked child with `uid` can send a datagram to the abstract `address`."""
    pid = os.fork()
    if pid == 0:
        code = 2
        try:
            os.setuid(uid)
            socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(changed("forged"), address)
            code = 0
        except OSError:
            code = 1
        finally:
            os._exit(code)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0


def abstract_names(pids: list[int]) -> list[str]:
    """The abstract socket names the processes `pids` hold (their sockets' inodes, looked up
    in /proc/net/unix, where such names start with '@')."""
    inodes = set()
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            target = os.readlink(fd) if fd.is_symlink() else ""
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    names = []
    for line in Path("/proc/net/unix").read_text().splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 8 and fields[6] in inodes and fields[7].startswith("@"):
            names.append(fields[7])
    return names


@needs_root
def test_serve_s_processor_starts_and_hears_its_servers_though_its_old_name_is_taken(
    squatter: Path,
) -> None:
    server = LiveServer(squatter, env={"USERTRAIL_DEMO": "0"}, args=["--processes", "2"])
    server.start()  # ready only once the processor has answered the server's hello
    try:
        assert server.proc is not None
        tree = [server.proc.pid, *children(server.proc.pid)]
        assert child_of(server, "worker") in tree
        # No name anyone could take first: the only names are the kernel's own (SO_PASSCRED
        # autobinds a sender), given after the socket exists, and nobody else can send to
        # them (each socket is connected to its pair).
        names = abstract_names(tree)
        assert all(re.fullmatch("@[0-9a-f]{5}", name) for name in names), names
        assert not any(reached_as(NOBODY, b"\0" + name[1:].encode()) for name in names)

        posthog = Posthog(TOKEN, host=server.url, sync_mode=True)
        posthog.capture("$pageview", distinct_id="u1", properties={"$current_url": "https://a.io/"})
        headers = {"Authorization": f"Bearer {API_KEY}"}
        wait_for(lambda: httpx.get(f"{server.url}/context/user/u1", headers=headers).is_success)
        # Now cached in whichever server answered: the processor's notices reach them all.
        posthog.capture("plan_selected", distinct_id="u1", properties={"plan": "pro"})
        for _ in range(4):  # both servers (the kernel spreads connections between them)
            assert wait_for_label(server.url, "u1", "plan selected", timeout=10)
        metrics = httpx.get(f"{server.url}/metrics").text  # the processor's answer, in it
        assert "usertrail_events_processed_total 2.0" in metrics
    finally:
        server.stop()
