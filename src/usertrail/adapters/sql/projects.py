"""Projects (tenants) on SQL: looked up by public token, secret key, webhook secret or id."""

from __future__ import annotations

import asyncio
import hmac
import secrets
import time
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import Engine, insert, select, update

from usertrail.adapters.sql.eventlog import to_us
from usertrail.adapters.sql.tables import projects
from usertrail.model.project import Project

DEFAULT_PROJECT_ID = "default"
RELOAD_INTERVAL_S = 1.0
Field = Literal["token", "api_key", "id"]


def new_credentials() -> dict[str, str]:
    return {
        "token": "phc_" + secrets.token_urlsafe(32),
        "api_key": "utk_" + secrets.token_urlsafe(32),
        "webhook_secret": "whs_" + secrets.token_urlsafe(32),
    }


class SqlProjects:
    """Projects change rarely, so lookups are served from memory, reloaded on a miss."""

    def __init__(self, engine: Engine, write_engine: Engine | None = None) -> None:
        """`write_engine`: one that takes SQLite's write lock at BEGIN (engine.make_engine's
        `writer`). A plain BEGIN that reads and then writes must upgrade its lock, and
        SQLite refuses that at once, no wait, when another process committed meanwhile: a
        `serve` started beside a busy one failed its first write for as long as the load
        lasted."""
        self._engine = engine
        self._write_engine = write_engine or engine
        self._index: dict[Field, dict[str, Project]] = {"token": {}, "api_key": {}, "id": {}}
        self._loaded_at = 0.0

    def load(self) -> list[Project]:
        columns = (
            projects.c.id,
            projects.c.name,
            projects.c.token,
            projects.c.api_key,
            projects.c.webhook_secret,
        )
        with self._engine.connect() as conn:
            found = [Project(**row._mapping) for row in conn.execute(select(*columns))]
        self._index = {
            "token": {p.token: p for p in found},
            "api_key": {p.api_key: p for p in found},
            "id": {p.id: p for p in found},
        }
        return found

    def ensure(self, project_id: str, name: str, **fixed: str | None) -> tuple[Project, bool]:
        """Create the project if missing; credentials given in `fixed` override stored ones."""
        overrides = {k: v for k, v in fixed.items() if v}
        with self._write_engine.begin() as conn:
            row = conn.execute(select(projects.c.id).where(projects.c.id == project_id)).first()
            created = row is None
            if created:
                values = {**new_credentials(), **overrides}
                conn.execute(
                    insert(projects).values(
                        id=project_id, name=name, created_us=to_us(datetime.now(UTC)), **values
                    )
                )
            elif overrides:
                conn.execute(
                    update(projects).where(projects.c.id == project_id).values(**overrides)
                )
        self.load()
        return self._index["id"][project_id], created

    async def by_token(self, token: str) -> Project | None:
        return await self._find("token", token)

    async def by_api_key(self, api_key: str) -> Project | None:
        return await self._find("api_key", api_key)

    async def by_id(self, project_id: str) -> Project | None:
        return await self._find("id", project_id)

    async def by_webhook_secret(self, secret: str) -> Project | None:
        given = secret.encode()
        found = None
        for project in self._index["id"].values():
            if hmac.compare_digest(given, project.webhook_secret.encode()):
                found = project
        return found

    async def _find(self, field: Field, key: str) -> Project | None:
        """A miss may be a project created since (`usertrail projects create`, another
        process): reload, at most once a second so bad tokens cannot hammer the database."""
        found = self._index[field].get(key)
        now = time.monotonic()
        if found is None and now - self._loaded_at >= RELOAD_INTERVAL_S:
            self._loaded_at = now
            await asyncio.to_thread(self.load)
            found = self._index[field].get(key)
        return found

    def all(self) -> list[Project]:
        return list(self._index["id"].values())
