"""Cold context reads queued together are read together (one transaction) and each still
gets exactly its own context, on SQLite and PostgreSQL: hostile ids, a read that fails, a
person erased while their batch is being built.

The builder thread is held by the project config it asks for (`HeldConfig`): reads made
meanwhile queue up, and are taken as one batch when it is let go."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event

from tests.backends import settings_on
from tests.factories import pageview
from usertrail.core.context.build import ContextOptions
from usertrail.errors import NotFound
from usertrail.model.config import ProjectConfig
from usertrail.services.context import ContextService
from usertrail.services.context_cache import Rendered
from usertrail.settings import Settings
from usertrail.wiring import Runtime, build_runtime

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
OPTIONS = ContextOptions(n=5)
# Ids capture accepts (any Unicode but controls, up to 200 characters), at their worst.
USERS = [
    "u_first",
    "ünïcødé-é",
    "id/with/slash",
    "%2F..%2F",
    "\u202eevil<script>alert(1)</script>",
    "匿名 1",
    "e\u0301",
    "é" * 200,
    "😀" * 50,
]


class HeldConfig:
    """The project config, handed out on the builder thread; the calls numbered in `hold`
    wait there until `release`."""

    def __init__(self, config_for: Callable[[str], ProjectConfig], hold: set[int]) -> None:
        self._config_for = config_for
        self._hold = hold
        self._calls = 0
        self._lock = threading.Lock()
        self.holding = threading.Semaphore(0)  # one release per held call
        self._released = threading.Semaphore(0)

    def __call__(self, project_id: str) -> ProjectConfig:
        with self._lock:
            self._calls += 1
            held = self._calls in self._hold
        if held:
            self.holding.release()
            assert self._released.acquire(timeout=30)
        return self._config_for(project_id)

    async def held(self) -> None:
        assert await asyncio.to_thread(self.holding.acquire, True, 30)

    def release(self) -> None:
        self._released.release()


async def filled(settings: Settings) -> Runtime:
    """Every user with pages of their own, so no two contexts are alike."""
    runtime = build_runtime(settings)
    project_id = runtime.default_project.id
    trace = [
        pageview(f"/{i}/{page}", distinct_id=user, at=i * 10 + page, project_id=project_id)
        for i, user in enumerate(USERS)
        for page in range(3)
    ]
    await runtime.event_log.append(trace)
    await runtime.processor.drain()
    return runtime


@asynccontextmanager
async def service_on(
    backend: str, tmp_path: Path, hold: set[int], cache: bool = False
) -> AsyncIterator[tuple[Runtime, ContextService, HeldConfig]]:
    with settings_on(backend, tmp_path) as settings:
        runtime = await filled(settings)
        config = HeldConfig(runtime.config_for, hold)
        shared = runtime.context.cache if cache else None  # the one erasure forgets from
        service = ContextService(runtime.store, runtime.projects, config, lambda: NOW, shared)
        try:
            yield runtime, service, config
        finally:
            service.close()
            await runtime.close()


async def queued(service: ContextService, runtime: Runtime, users: list[str]) -> list[Any]:
    """Reads of `users`, each queued before this returns."""
    project = runtime.default_project
    reads = [asyncio.ensure_future(service.rendered(project, u, OPTIONS)) for u in users]
    for _ in range(3):  # each read's flight starts on the loop's next turns
        await asyncio.sleep(0)
    return reads


async def alone(runtime: Runtime, user: str) -> Rendered:
    """The user's context read on its own, by a service of its own."""
    service = ContextService(runtime.store, runtime.projects, runtime.config_for, lambda: NOW)
    try:
        return await service.rendered(runtime.default_project, user, OPTIONS)
    finally:
        service.close()


def builder_begins(engine: Engine) -> list[str]:
    """The transactions begun on the context builder threads from now on."""
    begun: list[str] = []

    def begin(_conn: Any) -> None:
        if threading.current_thread().name.startswith("usertrail-context"):
            begun.append(threading.current_thread().name)

    event.listen(engine, "begin", begin)
    return begun


async def test_cold_reads_queued_together_are_read_in_one_transaction(
    tmp_path: Path, backend: str
) -> None:
    async with service_on(backend, tmp_path, hold={1}) as (runtime, service, config):
        (first,) = await queued(service, runtime, USERS[:1])
        await config.held()
        begun = builder_begins(runtime.engine)
        rest = await queued(service, runtime, USERS[1:])
        config.release()
        await asyncio.gather(first, *rest)
        assert len(begun) == 1, begun


async def test_each_read_of_a_batch_gets_its_own_users_context(
    tmp_path: Path, backend: str
) -> None:
    async with service_on(backend, tmp_path, hold={1}) as (runtime, service, config):
        (first,) = await queued(service, runtime, USERS[-1:])
        await config.held()
        reads = await queued(service, runtime, USERS)
        config.release()
        await first
        answers = await asyncio.gather(*reads)
        for user, answer in zip(USERS, answers, strict=True):
            assert answer.json == (await alone(runtime, user)).json, user
        assert len({a.json for a in answers}) == len(USERS)


async def test_a_read_that_fails_does_not_fail_the_rest_of_its_batch(
    tmp_path: Path, backend: str
) -> None:
    """An unknown user is a 404 of its own; an id with NUL (which no entry point lets
    through) fails PostgreSQL's whole transaction, and only its own read."""
    async with service_on(backend, tmp_path, hold={1}) as (runtime, service, config):
        (first,) = await queued(service, runtime, USERS[:1])
        await config.held()
        wanted = [USERS[1], "a\x00b", "nobody", USERS[2]]
        reads = await queued(service, runtime, wanted)
        config.release()
        await first
        good, nul, nobody, other = await asyncio.gather(*reads, return_exceptions=True)
        assert isinstance(nul, Exception)
        assert isinstance(nobody, NotFound)
        assert isinstance(good, Rendered)
        assert isinstance(other, Rendered)
        assert good.json == (await alone(runtime, USERS[1])).json
        assert other.json == (await alone(runtime, USERS[2])).json


async def test_a_person_erased_after_their_batch_was_read_is_not_kept_in_the_cache(
    tmp_path: Path, backend: str
) -> None:
    """Held at the second read of the batch: both persons were read, the first is built;
    the second is erased before it is built. Its context answers the read that came before
    the erasure, but is not cached: the next read finds nobody."""
    erased, kept = USERS[4], USERS[5]
    cached = service_on(backend, tmp_path, hold={1, 3}, cache=True)
    async with cached as (runtime, service, config):
        project = runtime.default_project
        (first,) = await queued(service, runtime, USERS[:1])
        await config.held()
        reads = await queued(service, runtime, [kept, erased])
        config.release()
        await config.held()  # the batch is read; `erased` waits to be built
        await runtime.privacy.delete_person(project, erased)
        config.release()
        await asyncio.gather(first, *reads)
        assert service.cache.get((project.id, erased, OPTIONS)) is None
        assert service.cache.get((project.id, kept, OPTIONS)) is not None
        with pytest.raises(NotFound):
            await service.rendered(project, erased, OPTIONS)
