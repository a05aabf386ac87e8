"""Privacy requests: erase a person (DELETE /persons/{id}) and export one (GET .../export).

Erasure is one transaction in the store (see adapters.sql.privacy for what it removes, and
core.erasure for why late events cannot bring the person back). Then the shell forgets the
person everywhere it is cached: this process's hot contexts and live streams, and, in
scale-out, every other process through the change notices. Sink files belong to the one
process that appends to them; the answer waits (bounded) for it to cut the person's lines.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

import msgspec
import structlog

from usertrail.core.identity import apply_person_updates
from usertrail.errors import NotFound
from usertrail.model.actions import PersonActions
from usertrail.model.event import PersonId
from usertrail.model.privacy import Erasure, ErasureReport, PersonRecords, RawExport
from usertrail.model.project import Project

log = structlog.get_logger("usertrail.privacy")
_encode = msgspec.json.Encoder().encode
EventKey = tuple[int, str]
PAGE = 500


class PrivacyStore(Protocol):
    async def erase(self, project_id: str, distinct_id: str, now: datetime) -> Erasure | None: ...

    async def records(self, project_id: str, distinct_id: str) -> PersonRecords | None: ...

    async def raw_page(
        self, project_id: str, distinct_id: str, after_seq: int, limit: int
    ) -> list[tuple[int, RawExport]]: ...

    async def event_page(
        self, project_id: str, distinct_id: str, after: EventKey, limit: int
    ) -> list[tuple[EventKey, msgspec.Raw]]: ...

    async def purges_left(self, project_id: str, uuids: Sequence[str]) -> int: ...


class ActionsReader(Protocol):
    async def person_actions(self, project_id: str, distinct_id: str) -> PersonActions | None: ...


def unknown_user(user_id: str) -> NotFound:
    """The same answer as GET /context for an id the project does not have: an erased id, or
    another project's, cannot be told apart from one that never existed."""
    return NotFound(f"no user {user_id!r} in this project")


class PrivacyService:
    def __init__(
        self,
        store: PrivacyStore,
        actions: ActionsReader,
        forget: Callable[[Sequence[PersonId]], None],
        wake_sinks: Callable[[], None],
        clock: Callable[[], datetime],
        *,
        purge_wait_s: float = 10.0,
    ) -> None:
        self._store = store
        self._actions = actions
        self._forget = forget
        self._wake_sinks = wake_sinks
        self._clock = clock
        self._purge_wait_s = purge_wait_s

    async def delete_person(self, project: Project, user_id: str) -> ErasureReport:
        """Erase the whole person any of whose distinct ids is `user_id`."""
        erasure = await self._store.erase(project.id, user_id, self._clock())
        if erasure is None:
            raise unknown_user(user_id)
        self._forget([PersonId(project_id=project.id, distinct_id=d) for d in erasure.distinct_ids])
        self._wake_sinks()
        sink_files = await self._await_purge(project.id, erasure.sink_uuids)
        # Counts only: the log must not keep what was just erased.
        log.info("person_erased", project=project.id, sink_files=sink_files, **erasure.deleted)
        return ErasureReport(
            person=erasure.person_key,
            distinct_ids=erasure.distinct_ids,
            deleted=erasure.deleted,
            sink_files=sink_files,
            erased_at=erasure.erased_at,
        )

    async def _await_purge(self, project_id: str, uuids: Sequence[str]) -> str:
        deadline = time.monotonic() + self._purge_wait_s
        while uuids and await self._store.purges_left(project_id, uuids):
            if time.monotonic() > deadline:
                return "pending"
            await asyncio.sleep(0.05)
        return "purged"

    async def export(self, project: Project, user_id: str) -> AsyncIterator[bytes]:
        """Everything stored about the person, as one JSON object in chunks. Raises NotFound
        before the first chunk, so the caller can still answer 404."""
        records = await self._store.records(project.id, user_id)
        if records is None:
            raise unknown_user(user_id)
        actions = await self._actions.person_actions(project.id, user_id)
        return self._chunks(project, records, actions)

    async def _chunks(
        self, project: Project, records: PersonRecords, actions: PersonActions | None
    ) -> AsyncIterator[bytes]:
        yield _encode(_head(project, records, actions, self._clock()))[:-1]  # the object, open
        ids = records.person.distinct_ids
        yield b',"raw_events":['
        async for chunk in _joined(self._raw_pages(project.id, ids)):
            yield chunk
        yield b'],"events":['
        async for chunk in _joined(self._event_pages(project.id, ids)):
            yield chunk
        yield b"]}"

    async def _raw_pages(self, project_id: str, ids: Sequence[str]) -> AsyncIterator[list[Any]]:
        for distinct_id in ids:
            after = 0
            while page := await self._store.raw_page(project_id, distinct_id, after, PAGE):
                after = page[-1][0]
                yield [item for _, item in page]

    async def _event_pages(self, project_id: str, ids: Sequence[str]) -> AsyncIterator[list[Any]]:
        for distinct_id in ids:
            after: EventKey = (-(2**62), "")
            while page := await self._store.event_page(project_id, distinct_id, after, PAGE):
                after = page[-1][0]
                yield [item for _, item in page]


def _head(
    project: Project, records: PersonRecords, actions: PersonActions | None, now: datetime
) -> dict[str, Any]:
    person = records.person
    return {
        "project": project.id,
        "exported_at": now,
        "person": {
            "key": person.key,
            "distinct_ids": person.distinct_ids,
            "first_seen": person.first_seen,
            "last_seen": person.last_seen,
            "properties": apply_person_updates(records.updates),
        },
        "person_updates": records.updates,
        "identity_edges": records.edges,
        "counters": records.counters,
        "sets": records.sets,
        "groups": records.groups,
        "trigger_firings": actions.firings if actions else (),
        "sink_lines": records.sink_lines,
    }


async def _joined(pages: AsyncIterator[list[Any]]) -> AsyncIterator[bytes]:
    """JSON array items, comma-separated across pages."""
    first = True
    async for page in pages:
        body = b",".join(_encode(item) for item in page)
        yield body if first else b"," + body
        first = False
