"""Wake-ups and change notices between the processes of one embedded deployment.

`usertrail serve` runs the processor in a process of its own (`usertrail worker`), so capture
keeps its GIL and the processor gets the other core. The serving process wakes the processor
after each commit; the processor tells every serving process what changed, as Redis Pub/Sub
does in scale-out: its new events whole (a cached context advances with them, as when the
processor runs in-process) and the other changes' ids (their contexts are dropped).

Unix datagram socket pairs, one per serving process, that `serve` makes before it starts its
children and hands down (`channels`, inherited file descriptors). They have no name: no other
user can bind one first (squat it: the processor could not start, or wakes went to the
squatter) nor send to one. They were abstract names, which have no file permissions. `serve`
keeps every end open for the life of the deployment, so a restarted processor or server takes
over the same sockets, with what was queued meanwhile. The processor lock (processor_lock: a
file lock in the data directory, and on PostgreSQL one in the database too) keeps one
processor per database: a second `serve` on the same database (SQLite, or PostgreSQL without
the bus) has its processor stand by, answering its servers' hellos with STANDBY and the first
server's pid (which the lock file holds; none when the holder uses another data directory),
until that lock is free, and then take over (services.leadership); a processor in its
server's process, or a standalone `usertrail worker` (InlineLead), takes the same lock and
stands by the same way.

Wakes, hellos and answers are fire-and-forget: a lost wake costs one poll interval of the
processor, and hellos repeat. A change notice is not lost: one that the reader's full queue
refuses (a burst of more datagrams than `net.unix.max_dgram_qlen`, or a reader being
restarted) leaves its socket owing the reader EVERYONE (every cached context dropped, every
live stream woken), sent as soon as the socket is writable again, after every notice it
stands for (_Outbox). Every datagram carries its sender's credentials (SO_PASSCRED, set by
the kernel), and one from another user is dropped.
"""

from __future__ import annotations

import asyncio
import os
import socket
import struct
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Literal

import structlog

from usertrail.adapters.notice_wire import Wants, decode_notice, encode_notices
from usertrail.adapters.processor_lock import ProcessorLock, pid_in
from usertrail.model.event import EVERYONE, Changed, PersonId

log = structlog.get_logger("usertrail.notices")
WAKE, HELLO, STANDBY, CHANGED, METRICS, RELAY = b"w", b"h", b"s", b"c", b"m", b"r"
HELLO_EVERY_S = 1.0
MAX_DATAGRAM = 64 * 1024
# The processor starts a slice this long after the first wake, not at every commit: each
# slice holds SQLite's write lock for a transaction (and an fsync) of its own, which a
# capture commit arriving meanwhile waits for. Measured alternately on all-in-one `serve`:
# 20 ms against 5 ms gave `/e/` at one connection p50 0.85-0.97 ms against 2.1-2.7 ms, and
# 4,840 against 3,209 req/s at 32; an event shows in context 30 ms after its ack at p50
# (15 ms with 5 ms; 12 ms with the processor in-process). USERTRAIL_PROCESSOR_LINGER_MS.
WAKE_LINGER_S = 0.02


# What a server knows of its processor: nothing yet, it processes, or it stands by while
# another `serve`'s processor follows the database.
ProcessorState = Literal["unknown", "running", "standby"]


def supported() -> bool:
    return sys.platform == "linux"


def channels(servers: int) -> list[tuple[socket.socket, socket.socket]]:
    """(serving end, processor end) for each of `servers` serving processes, to be handed
    to the children (subprocess's pass_fds) and kept open while they may be restarted."""
    pairs = []
    for _ in range(servers):
        pair = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        for sock in pair:
            sock.setblocking(False)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)  # see _sender_uid
        pairs.append(pair)
    return pairs


def _inherited(fd: int) -> socket.socket:
    sock = socket.socket(fileno=fd)
    sock.setblocking(False)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    return sock


_UCRED = struct.Struct("3i")  # struct ucred: pid, uid, gid
_CREDENTIALS_SPACE = socket.CMSG_SPACE(_UCRED.size)


def _sender_uid(ancillary: list[tuple[int, int, bytes]]) -> int | None:
    """The sending process's uid, as the kernel wrote it (SCM_CREDENTIALS)."""
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            return int(_UCRED.unpack(data[: _UCRED.size])[1])
    return None


def _chunks(changes: Sequence[Changed]) -> Iterator[bytes]:
    """CHANGED datagrams, each within MAX_DATAGRAM (adapters.notice_wire)."""
    for notice in encode_notices(changes, MAX_DATAGRAM - len(CHANGED)):
        yield CHANGED + notice


def _send(sock: socket.socket, data: bytes, quiet: bool = False) -> None:
    """Fire and forget: a full queue (the other end is busy, or not running: it is being
    restarted) drops the datagram."""
    try:
        sock.send(data)
    except OSError as exc:  # never the processor's slice or a request
        if not quiet:
            log.warning("notice_dropped", reason=type(exc).__name__)


_OWED = next(_chunks([EVERYONE]))


class _Outbox:
    """One socket's CHANGED datagrams, on the event loop. One that the socket refuses (the
    reader's queue is full) leaves it owing its reader EVERYONE, sent once the socket is
    writable again; those that come meanwhile are dropped too: the EVERYONE, sent after them,
    stands for them all. So the reader hears every change, as itself or as EVERYONE."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._owing: asyncio.AbstractEventLoop | None = None  # whose writer callback pays
        self._dropped = 0

    def send(self, datagram: bytes) -> None:
        if self._owing is None:
            try:
                self._sock.send(datagram)
                return
            except OSError as exc:  # never the processor's slice or a request
                self._owe(exc)
        self._dropped += 1

    def _owe(self, exc: OSError) -> None:
        """One warning and one writer callback for the whole episode."""
        log.warning("notice_dropped", reason=type(exc).__name__, then="everyone")
        self._owing = asyncio.get_running_loop()
        self._owing.add_writer(self._sock.fileno(), self._pay)

    def _pay(self) -> None:
        try:
            self._sock.send(_OWED)
        except (BlockingIOError, InterruptedError):
            return  # full again already: at its next room
        except OSError as exc:  # the reading end is gone for good: nobody is left to tell
            log.warning("notice_lost", reason=type(exc).__name__, dropped=self._dropped)
        else:
            log.info("notice_everyone_sent", dropped=self._dropped)
        self.close()

    def close(self) -> None:
        """Nothing owed any more, and no callback after this."""
        if self._owing is not None:
            self._owing.remove_writer(self._sock.fileno())
        self._owing, self._dropped = None, 0


async def _receive_forever(
    socks: Sequence[socket.socket], handle: Callable[[bytes, socket.socket], None]
) -> None:
    """Hand every datagram and the socket it came on to `handle`, until cancelled (reader
    callbacks: uvloop has no sock_recvfrom)."""
    loop = asyncio.get_running_loop()
    for sock in socks:
        loop.add_reader(sock.fileno(), _read_all, sock, handle)
    try:
        await loop.create_future()
    finally:
        for sock in socks:
            loop.remove_reader(sock.fileno())


def _read_all(sock: socket.socket, handle: Callable[[bytes, socket.socket], None]) -> None:
    while True:
        try:
            data, ancillary, _, _ = sock.recvmsg(MAX_DATAGRAM, _CREDENTIALS_SPACE)
        except (BlockingIOError, InterruptedError):
            return
        if _sender_uid(ancillary) != os.getuid():
            log.warning("notice_refused", reason="sent by another user")
            continue
        try:
            handle(data, sock)
        except Exception:  # one bad datagram must not end the listener
            log.exception("notice_failed")


class ServingNotices:
    """The serving process's end: wakes the processor, hears which persons changed."""

    def __init__(self, fd: int) -> None:
        self._sock = _inherited(fd)
        self._changes = _Outbox(self._sock)
        self.processor: ProcessorState = "unknown"  # from its answers to hellos (readiness)
        self.leader_pid: int | None = None  # standing by: the server whose processor runs
        # Called with True when the processor stands by, False when it runs (the context
        # cache: the other server's processor tells this one nothing of what it stores).
        self.on_standby: Callable[[bool], None] = lambda _standby: None
        # Whose new events to decode whole (a cached context advances with them); of the
        # others only the ids are read: in capture traffic, nearly every event (notice_wire).
        self.wants_event: Wants | None = None
        self._asked: dict[bytes, asyncio.Future[bytes]] = {}
        self._waking = False

    @property
    def processor_seen(self) -> bool:
        """The processor has answered a hello, running or standing by."""
        return self.processor != "unknown"

    def _heard(self, state: ProcessorState, leader: bytes = b"") -> None:
        self.leader_pid = pid_in(leader) if state == "standby" else None
        if state != self.processor:
            if "standby" in (state, self.processor):  # not at every start
                log.info("processor_state", state=state, leader_pid=self.leader_pid)
            self.processor = state
            self.on_standby(state == "standby")

    def wake(self) -> None:
        """New events are committed (ingest's on_stored, on the event loop). One datagram
        for every request answered in the same turn of the loop: a group commit wakes dozens
        at once, and each datagram was a syscall here and a wake-up of the processor. It is
        still sent after their commit, so the processor's next read sees their events."""
        if not self._waking:
            self._waking = True
            asyncio.get_running_loop().call_soon(self._wake_now)

    def _wake_now(self) -> None:
        """Quiet when dropped: while the processor restarts, its queue fills with wakes; its
        first slice takes them all."""
        self._waking = False
        _send(self._sock, WAKE, quiet=True)

    def publish(self, events: Sequence[Changed]) -> None:
        """Persons changed here (erasure): the processor passes it to every serving process."""
        for datagram in _chunks(events):
            self._changes.send(datagram)

    async def listen(self, deliver: Callable[[Sequence[Changed]], None]) -> None:
        def handle(data: bytes, _sock: socket.socket) -> None:
            if data == HELLO:
                self._heard("running")
            elif data.startswith(STANDBY):
                self._heard("standby", data[1:])
            elif data[:1] in (METRICS, RELAY):
                asked = self._asked.get(data[:1])
                if asked is not None and not asked.done():
                    asked.set_result(data[1:])
            elif data.startswith(CHANGED):
                deliver(decode_notice(data[1:], self.wants_event))

        hello = asyncio.create_task(self._say_hello())
        try:
            await _receive_forever([self._sock], handle)
        finally:
            hello.cancel()

    async def processor_metrics(self, timeout_s: float = 1.0) -> bytes:
        """The processor's exposition of its background counts (empty if it is silent)."""
        return await self._ask(METRICS, timeout_s)

    async def processor_relay(self, timeout_s: float = 1.0) -> bytes:
        """The processor's relay status, encoded by it (empty if it relays nothing)."""
        return await self._ask(RELAY, timeout_s)

    async def _ask(self, question: bytes, timeout_s: float) -> bytes:
        """One answer per kind of question in flight, shared by whoever asks meanwhile."""
        asked = self._asked.get(question)
        if asked is None or asked.done():
            asked = self._asked[question] = asyncio.get_running_loop().create_future()
            _send(self._sock, question)
        try:
            return await asyncio.wait_for(asyncio.shield(asked), timeout_s)
        except TimeoutError:
            return b""

    async def _say_hello(self) -> None:
        while True:
            _send(self._sock, HELLO, quiet=True)
            # Often until the processor first answers: readiness waits for it.
            await asyncio.sleep(HELLO_EVERY_S if self.processor_seen else 0.05)

    async def aclose(self) -> None:
        self._changes.close()
        self._sock.close()


class ProcessorNotices:
    """The processor's end: woken by serving processes, tells them all what changed.

    It leads (processes) only while it holds the database's processor lock: tried here and
    again at each `try_lead`. Until then, and once it lost the lock (`lock.confirmed`, on
    PostgreSQL), its servers hear that it stands by."""

    def __init__(
        self, fds: Sequence[int], lock: ProcessorLock, linger_s: float = WAKE_LINGER_S
    ) -> None:
        self.lock = lock
        self._socks = [_inherited(fd) for fd in fds]
        self._changes = [_Outbox(sock) for sock in self._socks]
        self._linger_s = linger_s
        self._waking = False
        self.on_wake: Callable[[], None] = lambda: None
        self.metrics_text: Callable[[], bytes] = lambda: b""
        self.relay_text: Callable[[], bytes] = lambda: b""
        # Quietly: its servers are ready once its listener answers them, after what must
        # come first (Runtime.lead); only a later takeover is announced at once.
        try:
            lock.try_take()
        except Exception:  # the database is away: Runtime.lead tries again
            log.warning("processor_lock_failed", exc_info=True)

    @property
    def leading(self) -> bool:
        return self.lock.held

    async def try_lead(self) -> bool:
        """Take the processor lock if it is free; the servers hear it at once."""
        if self.lock.held:
            return True
        if not await self.lock.take():
            return False
        self._broadcast(HELLO)
        return True

    def leader_pid(self) -> int | None:
        return self.lock.holder()

    def stand_by(self) -> None:
        """Tell the servers now (they ask again each second) that this one stands by."""
        self._broadcast(self._state())

    def _state(self) -> bytes:
        if self.leading:
            return HELLO
        pid = self.leader_pid()
        return STANDBY + (str(pid).encode() if pid is not None else b"")

    def publish(self, events: Sequence[Changed]) -> None:
        """Processor listener: to every serving process."""
        for datagram in _chunks(events):
            self._tell_all(datagram)

    def _tell_all(self, changed: bytes) -> None:
        for outbox in self._changes:
            outbox.send(changed)

    def _broadcast(self, datagram: bytes) -> None:
        for sock in self._socks:
            _send(sock, datagram)

    def _wake(self) -> None:
        self._waking = False
        self.on_wake()

    async def listen(self, deliver: Callable[[Sequence[Changed]], None]) -> None:
        def handle(data: bytes, sock: socket.socket) -> None:
            if data == WAKE and not self._waking and self.leading:
                self._waking = True
                asyncio.get_running_loop().call_later(self._linger_s, self._wake)
            elif data == HELLO:
                _send(sock, self._state(), quiet=True)
            elif data == METRICS:
                _send(sock, METRICS + self.metrics_text())
            elif data == RELAY:  # standing by, it relays nothing
                _send(sock, RELAY + (self.relay_text() if self.leading else b""))
            elif data.startswith(CHANGED):
                deliver(decode_notice(data[1:]))
                self._tell_all(data)

        await _receive_forever(self._socks, handle)

    async def aclose(self) -> None:
        for outbox in self._changes:
            outbox.close()
        for sock in self._socks:
            sock.close()
        self.lock.release()


class InlineLead:
    """`serve`'s processor in the serving process (USERTRAIL_PROCESSOR_PROCESS=0), or a
    standalone `usertrail worker`'s (its own server, whose pid the lock file holds): the same
    lock as ProcessorNotices takes, and the same standby (services.leadership), told to this process
    itself rather than sent to servers: its readiness, its context cache (`on_standby`: the
    other processor tells this process nothing) and its live streams (`publish`)."""

    def __init__(
        self,
        lock: ProcessorLock,
        on_standby: Callable[[bool], None],
        publish: Callable[[Sequence[PersonId]], None],
    ) -> None:
        self.lock = lock
        self._on_standby = on_standby
        self.publish = publish
        self.standing_by = False

    async def try_lead(self) -> bool:
        if not await self.lock.take():
            return False
        if self.standing_by:
            self.standing_by = False
            self._on_standby(False)
        return True

    def leader_pid(self) -> int | None:
        return self.lock.holder()

    def stand_by(self) -> None:
        self.standing_by = True
        self._on_standby(True)

    def release(self) -> None:
        self.lock.release()
