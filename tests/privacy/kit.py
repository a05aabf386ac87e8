"""A live server for privacy tests: a trigger with a real webhook receiver, a rotating sink,
SQLite or PostgreSQL; and the reads the tests make of it (API, sink files, database rows)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
from posthog import Posthog
from sqlalchemy import create_engine, select

from tests.live import API_KEY, TOKEN, LiveServer, wait_for
from tests.receivers import WebhookInbox, webhook_inbox
from tests.tenancy.tenants import database
from usertrail.adapters.sql.tables import metadata

PROJECT_FILE = """
triggers:
  power_user:
    when: {{event: feature_used}}
    nth: 3
    actions:
      - webhook: {{url: "{hook}"}}
sinks:
  training_data:
    when: {{event: generation_failed}}
    properties: [input_prompt, failure_reason]
    path: training_data.jsonl
    max_bytes: 1024
"""
AUTH = {"Authorization": f"Bearer {API_KEY}"}


wait_until = wait_for  # the condition reads better as a sentence here


@dataclass
class Site:
    server: LiveServer
    hooks: WebhookInbox
    database_url: str
    env: dict[str, str]

    @property
    def url(self) -> str:
        return self.server.url

    def posthog(self) -> Posthog:
        return Posthog(TOKEN, host=self.url, sync_mode=True)

    def get(self, path: str, **params: Any) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", headers=AUTH, params=params, timeout=10)

    def delete(self, user: str) -> httpx.Response:
        return httpx.delete(f"{self.url}/persons/{user}", headers=AUTH, timeout=30)

    def context(self, user: str) -> httpx.Response:
        return self.get(f"/context/user/{user}", n=200)

    def export(self, user: str) -> dict[str, Any]:
        response = self.get(f"/persons/{user}/export")
        assert response.status_code == 200, response.text
        return dict(orjson.loads(response.content))

    def event_count(self, user: str) -> int:
        response = self.context(user)
        return len(response.json()["recent_events"]) if response.status_code == 200 else 0

    def sink_status(self, user: str) -> list[str]:
        response = self.get(f"/actions/user/{user}")
        records = response.json()["sink_records"] if response.status_code == 200 else []
        return [r["status"] for r in records]

    def sink_files(self) -> list[Path]:
        return sorted(self.server.data_dir.glob("training_data*.jsonl"))

    def sink_lines(self) -> list[dict[str, Any]]:
        lines = (line for f in self.sink_files() for line in f.read_bytes().splitlines())
        return [orjson.loads(line) for line in lines]

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """A `usertrail` command on the server's data (its database and project file)."""
        return self.server.cli(*args)

    def rows_mentioning(self, *needles: str) -> list[str]:
        return rows_mentioning(self.database_url, *needles)


def rows_mentioning(database_url: str, *needles: str) -> list[str]:
    """Every stored row, in every table, whose values contain one of `needles`."""
    engine = create_engine(database_url)
    found = []
    try:
        with engine.connect() as conn:
            for table in metadata.sorted_tables:
                for row in conn.execute(select(table)):
                    text = repr(tuple(row))
                    found += [f"{table.name}: {text[:120]}" for n in needles if n in text]
    finally:
        engine.dispose()
    return found


@contextmanager
def site(backend: str, tmp: Path, **extra_env: str) -> Iterator[Site]:
    data_dir = tmp / "data"
    with webhook_inbox() as hooks, database(backend, data_dir) as (url, env):
        project_file = tmp / "project.yaml"
        project_file.write_text(PROJECT_FILE.format(hook=hooks.url))
        env = {**env, "USERTRAIL_PROJECT_FILE": str(project_file), **extra_env}
        server = LiveServer(data_dir=data_dir, env=env).start()
        try:
            yield Site(server, hooks, url, env)
        finally:
            server.stop()
