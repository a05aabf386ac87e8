"""Context: authenticate the reader, load one person's data, build the context object."""

from __future__ import annotations

from collections.abc import Callable
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
from usertrail.services.context_cache import ContextCache, Rendered
from usertrail.services.read_limits import ReadLimiter

# Enough history for the last session and its summary, whatever `n` the caller asked for.
MIN_EVENTS_LOADED = 200


class PersonReader(Protocol):
    async def person_data(
        self, project_id: str, distinct_id: str, limit: int
    ) -> PersonData | None: ...


class ContextService:
    def __init__(
        self,
        store: PersonReader,
        projects: ProjectRegistry,
        config_for: Callable[[str], ProjectConfig],
        clock: Callable[[], datetime],
        cache: ContextCache | None = None,
        limiter: ReadLimiter | None = None,
    ) -> None:
        self._store = store
        self._projects = projects
        self._config_for = config_for
        self._clock = clock
        self.cache = cache or ContextCache(size=0)
        self.limiter = limiter or ReadLimiter(None)

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
        key = (project.id, user_id, options)
        if (cached := self.cache.get(key)) is not None:
            return cached.context()
        built_at = self.cache.generation()
        ctx, ids = await self._build(project, user_id, options)
        self.cache.put(key, ctx, options.include_prompt, ids, built_at)
        return ctx

    async def rendered(self, project: Project, user_id: str, options: ContextOptions) -> Rendered:
        """`for_user`, encoded as the read API sends it (a cache hit is not encoded again)."""
        key = (project.id, user_id, options)
        if (cached := self.cache.get(key)) is not None:
            return cached
        built_at = self.cache.generation()
        ctx, ids = await self._build(project, user_id, options)
        return self.cache.put(key, ctx, options.include_prompt, ids, built_at)

    async def _build(
        self, project: Project, user_id: str, options: ContextOptions
    ) -> tuple[UserContext, tuple[str, ...]]:
        """The context, and the person's distinct ids as stored (the context may mask them)."""
        loaded = max(events_wanted(options), MIN_EVENTS_LOADED)
        data = await self._store.person_data(project.id, user_id, loaded)
        if data is None:
            raise NotFound(f"no user {user_id!r} in this project")
        config = self._config_for(project.id)
        inputs = ContextInputs(
            person=data.person,
            user_id=user_id,
            properties=apply_person_updates(data.updates),
            events=data.events,
            counters=merge_counters(list(data.counters)),
            set_sizes=dict(data.set_sizes),
            config=config,
            groups=data.groups,
        )
        options = msgspec.structs.replace(options, mask_pii=config.mask_pii)
        return build_context(inputs, options, self._clock()), data.person.distinct_ids
