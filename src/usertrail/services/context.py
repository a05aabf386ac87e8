"""Context: authenticate the reader, load one person's data, build the context object."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

import msgspec

from usertrail.core.aggregates import merge_counters
from usertrail.core.context.build import (
    ContextInputs,
    ContextOptions,
    build_context,
    events_wanted,
)
from usertrail.core.identity import apply_person_updates
from usertrail.errors import BadCredentials, NotFound
from usertrail.model.config import ProjectConfig
from usertrail.model.context import UserContext
from usertrail.model.person import PersonData
from usertrail.model.project import Project
from usertrail.ports import ProjectRegistry
from usertrail.services.batches import Batches, Outcome
from usertrail.services.context_cache import ContextCache, Key, Rendered
from usertrail.services.read_limits import ReadLimiter

# Enough history for the last session and its summary, whatever `n` the caller asked for.
MIN_EVENTS_LOADED = 200
# Cold builds a builder thread takes at once: their reads share one transaction, and their
# contexts wait for the last of them (16 builds of 100 events: about 18 ms on SQLite).
BATCH_MOST = 16

Wanted = tuple[str, str, int]  # project id, distinct id, events limit
Job = tuple[str, str, ContextOptions]  # project id, user id, options
Built = tuple[ContextInputs, UserContext]


class PersonReader(Protocol):
    def persons_data_now(self, wanted: Sequence[Wanted]) -> list[PersonData | None]:
        """Each person's data (None: no such person), read in one transaction on the
        calling thread."""
        ...


class ContextService:
    def __init__(
        self,
        store: PersonReader,
        projects: ProjectRegistry,
        config_for: Callable[[str], ProjectConfig],
        clock: Callable[[], datetime],
        cache: ContextCache | None = None,
        limiter: ReadLimiter | None = None,
        builders: int = 1,
        count_read: Callable[[str], None] | None = None,
    ) -> None:
        self._store = store
        self._count_read = count_read or _uncounted  # "cache", "advanced" or "store"
        self._projects = projects
        self._config_for = config_for
        self._clock = clock
        self.cache = cache or ContextCache(size=0)
        self.limiter = limiter or ReadLimiter(None)
        self._flights: dict[Key, tuple[int, asyncio.Task[Rendered]]] = {}
        # Cold builds (load + build) run here, first come first served, off the event loop:
        # inline, 64 clients' builds held the loop in turn and some waited seconds while
        # others were served (the loop reads sockets unfairly when it is saturated).
        self._builds: Batches[Job, Built] = Batches(
            self._build_now, builders, BATCH_MOST, "usertrail-context"
        )

    def close(self) -> None:
        """Let the builder threads finish what they run, and end them."""
        self._builds.close()

    async def project_for_key(self, api_key: str | None) -> Project:
        """Every read starts here (HTTP, dashboard, MCP), so it also takes the project's
        read token: 401 without a valid key, 429 over the project's read rate."""
        project = await self.lookup_key(api_key)
        if project is None:
            raise BadCredentials("missing or wrong API key (send 'Authorization: Bearer <key>')")
        self.limiter.admit(project.id)
        return project

    async def lookup_key(self, api_key: str | None) -> Project | None:
        """The key's project, taking no read token (see project_for_key)."""
        return await self._projects.by_api_key(api_key) if api_key else None

    async def for_user(
        self, project: Project, user_id: str, options: ContextOptions
    ) -> UserContext:
        """The project comes from the key, never from the request: no cross-tenant reads."""
        return (await self.rendered(project, user_id, options)).context()

    async def rendered(self, project: Project, user_id: str, options: ContextOptions) -> Rendered:
        """The context as the read API sends it (a cache hit is not encoded again). After a
        new event of a cached person, it is built again from the cache's advanced inputs."""
        key = (project.id, user_id, options)
        if (cached := self.cache.get(key)) is not None:
            self._count_read("cache")
            return cached
        if (inputs := self.cache.inputs(key)) is not None:
            self._count_read("advanced")
            ctx = self._context(inputs, options)
            return self.cache.put(key, ctx, options.include_prompt, inputs.person.distinct_ids)
        self._count_read("store")
        return await asyncio.shield(self._flight(project, user_id, options))

    def _flight(
        self, project: Project, user_id: str, options: ContextOptions
    ) -> asyncio.Task[Rendered]:
        """The cold build of `key`, shared by every read that asks for it before it ends and
        after the last change notice (so none gets a context older than its request): 64
        clients missing the cache for one user cost one build, not 64 in a queue."""
        key, since = (project.id, user_id, options), self.cache.generation()
        flight = self._flights.get(key)
        if flight is not None and flight[0] == since:
            return flight[1]
        task = asyncio.ensure_future(self._cold(project, user_id, options, since))
        self._flights[key] = (since, task)
        task.add_done_callback(lambda _t: self._landed(key, task))
        return task

    def _landed(self, key: Key, task: asyncio.Task[Rendered]) -> None:
        if (flight := self._flights.get(key)) is not None and flight[1] is task:
            del self._flights[key]

    async def _cold(
        self, project: Project, user_id: str, options: ContextOptions, since: int
    ) -> Rendered:
        key, limit = (project.id, user_id, options), loaded_events(options)
        inputs, ctx = await self._builds.submit(key)
        loaded = (inputs, limit, since)
        ids = inputs.person.distinct_ids
        return self.cache.put(key, ctx, options.include_prompt, ids, loaded=loaded)

    def _build_now(self, jobs: Sequence[Job]) -> list[Outcome[Built]]:
        """On a builder thread: the persons' inputs from the store, and their contexts. A
        read that fails the batch's transaction (PostgreSQL refuses an id with NUL) is
        retried alone for each job: one request's failure is its own."""
        try:
            found = self._store.persons_data_now([(p, u, loaded_events(o)) for p, u, o in jobs])
        except Exception as exc:
            if len(jobs) == 1:
                return [exc]
            return [self._build_now([job])[0] for job in jobs]
        return [self._built(job, data) for job, data in zip(jobs, found, strict=True)]

    def _built(self, job: Job, data: PersonData | None) -> Outcome[Built]:
        project_id, user_id, options = job
        if data is None:
            return NotFound(f"no user {user_id!r} in this project")
        try:
            inputs = ContextInputs(
                person=data.person,
                user_id=user_id,
                properties=apply_person_updates(data.updates),
                events=data.events,
                counters=merge_counters(list(data.counters)),
                set_sizes=dict(data.set_sizes),
                config=self._config_for(project_id),
                groups=data.groups,
            )
            return inputs, self._context(inputs, options)
        except Exception as exc:  # this context's failure only, not its batch's
            return exc

    def _context(self, inputs: ContextInputs, options: ContextOptions) -> UserContext:
        """The context object (the person's distinct ids as stored are in `inputs`: the
        object may mask them)."""
        options = msgspec.structs.replace(options, mask_pii=inputs.config.mask_pii)
        return build_context(inputs, options, self._clock())


def loaded_events(options: ContextOptions) -> int:
    """Enough history for the last session and its summary, whatever `n` was asked for."""
    return max(events_wanted(options), MIN_EVENTS_LOADED)


def _uncounted(_source: str) -> None:
    pass
