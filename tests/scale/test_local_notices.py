"""The processor's local socket hears only its own user: an abstract name has no file
permissions, so anyone on the machine can send to it."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Sequence

import pytest

from tests.factories import make_event, make_raw
from usertrail.adapters.local_notices import CHANGED, ProcessorNotices, _chunks, processor_address
from usertrail.model.event import Changed, Event

NOBODY = 65534


def changed(distinct_id: str) -> bytes:
    [datagram] = _chunks([make_event(make_raw(distinct_id=distinct_id, project_id="p1"))])
    assert datagram.startswith(CHANGED)
    return datagram


def send_as(uid: int, datagram: bytes, address: bytes) -> None:
    """From a forked child that takes `uid` (it only makes system calls, then exits)."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.setuid(uid)
            socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(datagram, address)
            code = 0
        finally:
            os._exit(code)
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0


@pytest.mark.skipif(os.getuid() != 0, reason="sending as another user needs root")
async def test_a_notice_from_another_user_is_dropped_and_ones_own_is_heard() -> None:
    url = f"sqlite:///notices-{os.getpid()}.db"
    notices = ProcessorNotices(url, linger_s=0)
    heard: list[str] = []
    got_own = asyncio.Event()

    def deliver(changes: Sequence[Changed]) -> None:
        heard.extend(c.distinct_id for c in changes if isinstance(c, Event))
        got_own.set()

    listening = asyncio.create_task(notices.listen(deliver))
    try:
        address = processor_address(url)
        send_as(NOBODY, changed("forged"), address)
        send_as(os.getuid(), changed("genuine"), address)
        # Datagrams on one socket arrive in order: once the genuine one is heard, the forged
        # one, sent first, has been read and refused.
        await asyncio.wait_for(got_own.wait(), 30)
        assert heard == ["genuine"]
    finally:
        listening.cancel()
        await notices.aclose()
