"""Wake-ups and change notices between the processes of one embedded deployment.

`usertrail serve` runs the processor in a process of its own (`usertrail worker`), so capture
keeps its GIL and the processor gets the other core. The serving process wakes the processor
after each commit; the processor tells every serving process what changed, as Redis Pub/Sub
does in scale-out: its new events whole (a cached context advances with them, as when the
processor runs in-process) and the other changes' ids (their contexts are dropped).

Unix datagram sockets in Linux's abstract namespace: no files to clean up, and a name is
freed when its process dies. The processor's name is derived from the database, so binding it
is also the lock that keeps one processor per database: a second one finds it taken. Serving
processes bind an automatic name and say hello every second, so a restarted processor knows
them again within a second. Datagrams are fire-and-forget: a lost wake costs one poll
interval of the processor, a lost notice at most the context cache's TTL. An abstract name has
no file permissions, so anyone on the machine could send to it: every datagram carries its
sender's credentials (SO_PASSCRED, set by the kernel, not the sender) and one from another user
is dropped, so nobody else can feed a cached context forged events.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import struct
import sys
from collections.abc import Callable, Iterator, Sequence

import msgspec
import structlog

from usertrail.model.event import Changed, Event, PersonId

log = structlog.get_logger("usertrail.notices")
WAKE, HELLO, CHANGED, METRICS, RELAY = b"w", b"h", b"c", b"m", b"r"
HELLO_EVERY_S = 1.0
MAX_DATAGRAM = 64 * 1024
# The processor starts a slice this long after the first wake, not at every commit: each
# slice holds SQLite's write lock for a transaction (and an fsync) of its own, which a
# capture commit arriving meanwhile waits for. Measured alternately on all-in-one `serve`:
# 20 ms against 5 ms gave `/e/` at one connection p50 0.85-0.97 ms against 2.1-2.7 ms, and
# 4,840 against 3,209 req/s at 32; an event shows in context 30 ms after its ack at p50
# (15 ms with 5 ms; 12 ms with the processor in-process). USERTRAIL_PROCESSOR_LINGER_MS.
WAKE_LINGER_S = 0.02
EVENT_BYTES_MAX = 16 * 1024  # a larger new event goes as its id: its context is rebuilt


class _Sent(msgspec.Struct, array_like=True):
    events: list[msgspec.Raw]  # each encoded once, to know its size
    ids: list[PersonId]


class _Notice(msgspec.Struct, array_like=True):
    """What changed: new events (a cached context advances with them) and other changes'
    ids (merges, erasures: their contexts are dropped)."""

    events: list[Event]
    ids: list[PersonId]

    def changes(self) -> list[Changed]:
        return [*self.events, *self.ids]


_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(_Notice).decode


class ProcessorTaken(Exception):
    """Another processor already follows this database."""


def supported() -> bool:
    return sys.platform == "linux"


def processor_address(database_url: str) -> bytes:
    digest = hashlib.sha256(database_url.encode()).hexdigest()[:24]
    return b"\0usertrail-processor-" + digest.encode()


def _datagram_socket() -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.setblocking(False)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)  # see _sender_uid
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
    """CHANGED datagrams of at most ~MAX_DATAGRAM bytes: each new event whole, in order,
    and the other changes' ids, deduplicated."""
    events: list[msgspec.Raw] = []
    size, ids = 0, set()
    for change in changes:
        encoded = _encode(change) if isinstance(change, Event) else b""
        if not encoded or len(encoded) > EVENT_BYTES_MAX:
            ids.add((change.project_id, change.distinct_id))
            continue
        if size + len(encoded) > MAX_DATAGRAM // 2:
            yield CHANGED + _encode(_Sent(events=events, ids=[]))
            events, size = [], 0
        events.append(msgspec.Raw(encoded))
        size += len(encoded)
    persons = [PersonId(project_id=p, distinct_id=d) for p, d in sorted(ids)]
    step = 200  # ids are at most a few hundred bytes (core.ids), so 200 fit in one datagram
    for i in range(0, max(len(persons), 1), step):
        if events or persons[i : i + step]:
            yield CHANGED + _encode(_Sent(events=events, ids=persons[i : i + step]))
        events = []


class _Endpoint:
    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def _send(self, data: bytes, address: bytes) -> bool:
        """False when nobody listens there any more; a full queue drops the datagram."""
        try:
            self._sock.sendto(data, address)
        except (ConnectionRefusedError, FileNotFoundError):
            return False
        except BlockingIOError:
            log.warning("notice_dropped", reason="receiver busy")
        return True

    async def _receive_forever(self, handle: Callable[[bytes, bytes], None]) -> None:
        """Hand every datagram and its sender to `handle`, until cancelled (a reader
        callback: uvloop has no sock_recvfrom)."""
        loop = asyncio.get_running_loop()
        loop.add_reader(self._sock.fileno(), self._read_all, handle)
        try:
            await loop.create_future()
        finally:
            loop.remove_reader(self._sock.fileno())

    def _read_all(self, handle: Callable[[bytes, bytes], None]) -> None:
        while True:
            try:
                data, ancillary, _, address = self._sock.recvmsg(MAX_DATAGRAM, _CREDENTIALS_SPACE)
            except (BlockingIOError, InterruptedError):
                return
            if _sender_uid(ancillary) != os.getuid():
                log.warning("notice_refused", reason="sent by another user")
                continue
            try:
                handle(data, address if isinstance(address, bytes) else b"")
            except Exception:  # one bad datagram must not end the listener
                log.exception("notice_failed")

    async def aclose(self) -> None:
        self._sock.close()


class ServingNotices(_Endpoint):
    """The serving process's end: wakes the processor, hears which persons changed."""

    def __init__(self, database_url: str) -> None:
        sock = _datagram_socket()
        sock.bind(b"")  # Linux autobind: a unique abstract name, freed with the process
        super().__init__(sock)
        self._processor = processor_address(database_url)
        self.processor_seen = False  # the processor has answered a hello (readiness)
        self._asked: dict[bytes, asyncio.Future[bytes]] = {}
        self._waking = False

    def wake(self) -> None:
        """New events are committed (ingest's on_stored, on the event loop). One datagram
        for every request answered in the same turn of the loop: a group commit wakes dozens
        at once, and each datagram was a syscall here and a wake-up of the processor. It is
        still sent after their commit, so the processor's next read sees their events."""
        if not self._waking:
            self._waking = True
            asyncio.get_running_loop().call_soon(self._wake_now)

    def _wake_now(self) -> None:
        self._waking = False
        self._send(WAKE, self._processor)

    def publish(self, events: Sequence[Changed]) -> None:
        """Persons changed here (erasure): the processor passes it to every serving process."""
        for datagram in _chunks(events):
            self._send(datagram, self._processor)

    async def listen(self, deliver: Callable[[Sequence[Changed]], None]) -> None:
        def handle(data: bytes, _sender: bytes) -> None:
            if data == HELLO:
                self.processor_seen = True
            elif data[:1] in (METRICS, RELAY):
                asked = self._asked.get(data[:1])
                if asked is not None and not asked.done():
                    asked.set_result(data[1:])
            elif data.startswith(CHANGED):
                deliver(_decode(data[1:]).changes())

        hello = asyncio.create_task(self._say_hello())
        try:
            await self._receive_forever(handle)
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
            self._send(question, self._processor)
        try:
            return await asyncio.wait_for(asyncio.shield(asked), timeout_s)
        except TimeoutError:
            return b""

    async def _say_hello(self) -> None:
        while True:
            self._send(HELLO, self._processor)
            # Often until the processor first answers: readiness waits for it.
            await asyncio.sleep(HELLO_EVERY_S if self.processor_seen else 0.05)


class ProcessorNotices(_Endpoint):
    """The processor's end: woken by serving processes, tells them all what changed."""

    def __init__(self, database_url: str, linger_s: float = WAKE_LINGER_S) -> None:
        sock = _datagram_socket()
        try:
            sock.bind(processor_address(database_url))
        except OSError as exc:
            sock.close()
            raise ProcessorTaken(database_url) from exc
        super().__init__(sock)
        self._members: set[bytes] = set()
        self._linger_s = linger_s
        self._waking = False
        self.on_wake: Callable[[], None] = lambda: None
        self.metrics_text: Callable[[], bytes] = lambda: b""
        self.relay_text: Callable[[], bytes] = lambda: b""

    def publish(self, events: Sequence[Changed]) -> None:
        """Processor listener: to every serving process heard from."""
        for datagram in _chunks(events):
            self._broadcast(datagram)

    def _broadcast(self, datagram: bytes) -> None:
        for member in list(self._members):
            if not self._send(datagram, member):
                self._members.discard(member)

    def _wake(self) -> None:
        self._waking = False
        self.on_wake()

    async def listen(self, deliver: Callable[[Sequence[Changed]], None]) -> None:
        def handle(data: bytes, sender: bytes) -> None:
            if sender:
                self._members.add(sender)
            if data == WAKE and not self._waking:
                self._waking = True
                asyncio.get_running_loop().call_later(self._linger_s, self._wake)
            elif data == HELLO:
                self._send(HELLO, sender)
            elif data == METRICS:
                self._send(METRICS + self.metrics_text(), sender)
            elif data == RELAY:
                self._send(RELAY + self.relay_text(), sender)
            elif data.startswith(CHANGED):
                deliver(_decode(data[1:]).changes())
                self._broadcast(data)

        await self._receive_forever(handle)
