"""Three tenants with distinctive planted data, on one live server (SQLite or PostgreSQL).

Every tenant's data carries marker strings of its own (ids, event properties, person
properties, element texts, URLs), so any byte of one tenant's data showing up in an answer
given to another credential is found by a substring search.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from posthog import Posthog

from tests import backends
from tests.live import LiveServer
from usertrail.adapters.sql.engine import create_schema, make_engine
from usertrail.adapters.sql.projects import SqlProjects

SHARED_ID = "shared-user"  # a distinct id every tenant has, with different data
PROJECT_FILE = """
triggers:
  marked:
    when: {event: marked}
    first: true
    actions:
      - webhook: {url: "http://127.0.0.1:9/hook"}
"""


@dataclass(frozen=True)
class Tenant:
    id: str

    @property
    def token(self) -> str:
        return f"phc_{self.id}_token_0123456789"

    @property
    def key(self) -> str:
        return f"utk_{self.id}_key_0123456789"

    @property
    def secret(self) -> str:
        return f"whs_{self.id}_secret_0123456789"

    @property
    def user(self) -> str:
        return f"{self.id}-user-zq"

    @property
    def anon(self) -> str:
        return f"{self.id}-anon-zq"

    def marker(self, what: str) -> str:
        return f"{self.id}-{what}-zq"

    @property
    def markers(self) -> tuple[str, ...]:
        """Everything planted that names this tenant; none is a substring of another's."""
        parts = ("codename", "note", "button", "page", "shared", "late", "account", "seats")
        return (self.user, self.anon, *(self.marker(p) for p in parts))


TENANTS = (Tenant("alpha"), Tenant("beta"), Tenant("gamma"))


@dataclass
class Walls:
    server: LiveServer
    note_uuids: dict[str, str]  # tenant id -> the uuid of its `marked` event

    @property
    def url(self) -> str:
        return self.server.url


@contextmanager
def database(backend: str, data_dir: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """The database URL and the env that points a server at it."""
    if backend == "sqlite":
        data_dir.mkdir(parents=True, exist_ok=True)
        yield f"sqlite:///{(data_dir / 'usertrail.db').resolve()}", {}
        return
    with backends.pg_schema_url() as url:
        yield url, {"USERTRAIL_DATABASE_URL": url}


def create_tenants(url: str) -> None:
    """Before the server starts, as `usertrail projects create` would."""
    engine = make_engine(url, writer=True)
    try:
        create_schema(engine)
        projects = SqlProjects(engine)
        for t in TENANTS:
            projects.ensure(
                t.id, t.id.title(), token=t.token, api_key=t.key, webhook_secret=t.secret
            )
    finally:
        engine.dispose()


@contextmanager
def walls_server(backend: str, tmp: Path) -> Iterator[Walls]:
    data_dir = tmp / "data"
    with database(backend, data_dir) as (url, env):
        create_tenants(url)
        project_file = tmp / "project.yaml"
        project_file.write_text(PROJECT_FILE)
        env = {
            **env,
            "USERTRAIL_PROJECT_FILE": str(project_file),
            "USERTRAIL_ACTION_MAX_ATTEMPTS": "1",  # the hook is refused: dead at once
            "USERTRAIL_READ_RATE_PER_S": "0",  # rate limits are not what is tested here
        }
        server = LiveServer(data_dir=data_dir, env=env).start()
        try:
            notes = {t.id: plant(server.url, t) for t in TENANTS}
            for t in TENANTS:
                wait_planted(server.url, t)
            yield Walls(server, notes)
        finally:
            server.stop()


def plant(url: str, t: Tenant) -> str:
    """A visit, a click in an account (with its properties), a login with person properties,
    a marked event (it fires a trigger
    whose webhook body carries the person); returns the marked event's uuid."""
    client = Posthog(t.token, host=url, sync_mode=True)
    page = {"$current_url": f"https://app.acme.test/{t.marker('page')}", "$session_id": "s1"}
    client.capture("$pageview", distinct_id=t.anon, properties=page)
    chain = f'button.cta:text="{t.marker("button")}";main'
    click = {**page, "$event_type": "click", "$elements_chain": chain}
    account = {"company": t.marker("account")}
    client.capture("$autocapture", distinct_id=t.anon, properties=click, groups=account)
    client.group_identify("company", t.marker("account"), {"seats": t.marker("seats")})
    login = {"$anon_distinct_id": t.anon, "$set": {"codename": t.marker("codename")}}
    client.capture("$identify", distinct_id=t.user, properties=login)
    uuid = client.capture("marked", distinct_id=t.user, properties={"note": t.marker("note")})
    client.capture("marked", distinct_id=SHARED_ID, properties={"note": t.marker("shared")})
    assert isinstance(uuid, str)
    return uuid


def wait_planted(url: str, t: Tenant, timeout: float = 15) -> None:
    """Until the tenant's own key sees all of it, including the trigger's dead delivery."""
    headers = {"Authorization": f"Bearer {t.key}"}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        context = httpx.get(f"{url}/context/user/{t.user}", headers=headers)
        actions = httpx.get(f"{url}/actions/user/{t.user}", headers=headers)
        account = httpx.get(f"{url}/context/group/company/{t.marker('account')}", headers=headers)
        if (
            context.status_code == 200
            and t.marker("seats") in account.text
            and len(context.json()["recent_events"]) == 4
            and actions.status_code == 200
            and [d["status"] for f in actions.json()["firings"] for d in f["deliveries"]]
            == ["dead"]
        ):
            return
        time.sleep(0.05)
    raise AssertionError(f"{t.id}'s planted data was not processed in {timeout} s")
