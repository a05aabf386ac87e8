"""One processor per database, without the bus: leading, standing by, standing down.

`serve`'s processor (in a process of its own, listening to its servers, or in the server's)
and a standalone `usertrail worker` lead only while they hold the database's processor lock
(adapters.processor_lock). Until then (another `serve` or worker on this database processes,
the events captured here too, from the log) one stands by: its servers answer from the
store, uncached, and each slice the other stores wakes their live streams (EVERYONE). When
that one ends, however it ends, this one takes the lock and carries on from the cursor the
other committed with its last slice: nothing lost, nothing twice. On PostgreSQL too: all
appends commit in seq order (SqlEventLog `ordered`, dialect.lock_raw_log), so the one
processor following the log by seq passes none.

A lock lost while leading (on PostgreSQL: its session ended, a restart or a terminated
backend) stops the work, and the process stands by again, giving the others a head start.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import structlog

from usertrail.model.event import EVERYONE, PersonId

log = structlog.get_logger("usertrail")
# A processor standing by tries the lock, and looks whether the other one stored a slice
# (to wake its servers' live streams), this often.
STANDBY_POLL_S = 0.2
# A leading processor looks whether another `serve` on its database erased an id this often.
ERASURES_POLL_S = 1.0
# A leading processor asks the database whether it still holds its processor lock this
# often, besides a look (no roundtrip) before each slice (ProcessorLock.still_held).
LEAD_CHECK_S = 1.0
# A processor that lost the lock (its session ended) tries again only this much later: one
# standing by elsewhere, whose session may be sound, takes it first.
STOOD_DOWN_S = 2.0
# A processor whose start failed tries again after 1 s, then 2, 4, ... up to 30.
LEAD_RETRY_S, LEAD_RETRY_MAX_S = 1.0, 30.0


class HeldLock(Protocol):
    async def confirmed(self) -> bool:
        """Still held, as the database says (a roundtrip where there is one)."""
        ...

    async def still_held(self) -> bool:
        """Still held, as far as this process can tell without a roundtrip."""
        ...


class Lead(Protocol):
    """The processor lock and who hears of it (adapters.local_notices: ProcessorNotices tells
    its servers, InlineLead its own process)."""

    @property
    def lock(self) -> HeldLock: ...

    async def try_lead(self) -> bool: ...

    def leader_pid(self) -> int | None: ...

    def stand_by(self) -> None: ...

    def publish(self, ids: Sequence[PersonId], /) -> None: ...


@dataclass(frozen=True)
class Leadership:
    lead: Lead
    cursor: Callable[[], Awaitable[object]]  # the processor's position in the log
    erasures: Callable[[], Awaitable[object]]  # the erasure tombstones' count and newest
    where: str  # the data directory, for the logs

    async def take(self, poll_s: float = STANDBY_POLL_S, not_before_s: float = 0.0) -> None:
        """Return once this process holds the lock (tried `not_before_s` from now), standing
        by until then."""
        lead = self.lead
        if not not_before_s and await lead.try_lead():
            return
        pid = lead.leader_pid()
        log.warning(
            "processor_standing_by",
            reason="another usertrail serve or worker processes this database",
            serve_pid=pid,
            holder=None if pid else "not known here: on another data directory or host",
            data_dir=self.where,
        )
        lead.stand_by()
        until = _not_before(not_before_s, lead.try_lead)
        await everyone_when_moved(lead, self.cursor, poll_s, until=until)
        log.warning("processor_took_over", data_dir=self.where)
        lead.publish([EVERYONE])  # what the other stored since the last look

    async def run(
        self,
        take: Callable[[float], Awaitable[None]],
        work: Callable[[], Sequence[asyncio.Task[None]]],
    ) -> None:
        """For ever: `take` the lock (the start, with `not_before_s`), then `work` (its first
        task the processor) while it is held; stand down when it is lost, and take it again.
        A failed start (the database away, at the relay's first cursor) is tried again,
        after longer and longer waits, as `serve` starts its processor process again."""
        not_before_s = 0.0
        while True:
            for retry_s in _backoff(LEAD_RETRY_S, LEAD_RETRY_MAX_S):
                try:
                    await take(not_before_s)
                    break
                except Exception:
                    log.exception("processor_lead_failed", retry_in_s=retry_s)
                    await asyncio.sleep(retry_s)
            await self._work_while_held(work())
            not_before_s = STOOD_DOWN_S

    async def _work_while_held(self, work: Sequence[asyncio.Task[None]]) -> None:
        """`work` until this process's lock is lost: looked at every LEAD_CHECK_S, and before
        each slice by the processor (`work[0]`), which then ends."""
        # An erasure sent to a `serve` standing by reaches its own servers only (its processor
        # tells nobody else): this one's servers learn of it from the tombstones.
        erased = everyone_when_moved(self.lead, self.erasures, ERASURES_POLL_S)
        tasks = [*work, asyncio.create_task(erased, name="erasures")]
        try:
            while not tasks[0].done() and await self.lead.lock.confirmed():
                await asyncio.wait([tasks[0]], timeout=LEAD_CHECK_S)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        log.warning(
            "processor_stood_down",
            reason="its processor lock's database session ended",
            data_dir=self.where,
        )
        self.lead.stand_by()


async def _never() -> bool:
    return False


async def everyone_when_moved(
    lead: Lead,
    read: Callable[[], Awaitable[object]],
    poll_s: float,
    until: Callable[[], Awaitable[bool]] = _never,
) -> None:
    """Tell this processor's servers that anyone may have changed (EVERYONE) whenever `read`
    gives another answer than the last time, every `poll_s`, until `until()`."""
    seen: object = None
    while True:
        try:
            if await until():
                return
            now = await read()
        except Exception:  # the database is away: look again at the next turn
            log.warning("processor_watch_failed", exc_info=True)
        else:
            if seen is not None and now != seen:
                lead.publish([EVERYONE])
            seen = now
        await asyncio.sleep(poll_s)


def _not_before(
    delay_s: float, attempt: Callable[[], Awaitable[bool]]
) -> Callable[[], Awaitable[bool]]:
    """`attempt`, but False without trying it until `delay_s` from now."""
    start = time.monotonic()

    async def attempt_when_due() -> bool:
        return time.monotonic() - start >= delay_s and await attempt()

    return attempt_when_due


def _backoff(first_s: float, most_s: float) -> Iterator[float]:
    """Waits that double from `first_s`, up to `most_s`, for ever."""
    wait_s = first_s
    while True:
        yield wait_s
        wait_s = min(wait_s * 2, most_s)
