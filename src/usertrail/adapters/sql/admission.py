"""Admission control for the raw log: a bounded number of appends wait for the writer, each
for a bounded time.

When the writer cannot commit (a held lock, a slow disk), an unbounded queue turns every
capture request into a hang and every queued body into memory. Past the bound, an append is
refused at once (Overloaded: 503 + Retry-After), which the SDKs retry later.
"""

from __future__ import annotations

import threading

from usertrail.errors import Overloaded


class Slot:
    """One admitted append, released by the writer thread once the job has committed or
    failed (release is idempotent, so a second call cannot free another request's slot)."""

    __slots__ = ("_gate", "_released")

    def __init__(self, gate: PendingGate) -> None:
        self._gate = gate
        self._released = False

    def release(self) -> None:
        with self._gate.lock:
            if not self._released:
                self._released = True
                self._gate.pending -= 1


class PendingGate:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.pending = 0
        self.lock = threading.Lock()

    def admit(self) -> Slot:
        """A slot, or Overloaded when `limit` appends are already waiting."""
        with self.lock:
            if self.pending >= self.limit:
                raise Overloaded(
                    f"{self.pending} capture requests are already waiting for storage; "
                    "retry shortly"
                )
            self.pending += 1
        return Slot(self)
