"""The real PostgreSQL and Redis on loopback, isolated per test (a schema, a key prefix).

Missing servers skip the tests that need them, except in CI (USERTRAIL_REQUIRE_SERVICES=1),
where they fail: a green CI run never hides a backend that was not tested.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from usertrail.settings import Settings

PG_URL = os.environ.get(
    "USERTRAIL_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("USERTRAIL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _unavailable(what: str, exc: Exception) -> None:
    if os.environ.get("USERTRAIL_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{what} is required (USERTRAIL_REQUIRE_SERVICES=1): {exc}")
    pytest.skip(f"{what} not reachable: {exc}")


@contextmanager
def pg_schema_url() -> Iterator[str]:
    """A fresh schema, dropped afterwards, so tests never see each other's rows."""
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        admin.dispose()
        _unavailable(f"PostgreSQL at {PG_URL}", exc)
    schema = f"ut_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@contextmanager
def redis_prefix() -> Iterator[str]:
    """A key prefix of its own on the loopback Redis, its keys deleted afterwards."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        _unavailable(f"Redis at {REDIS_URL}", exc)
    prefix = f"ut_{uuid.uuid4().hex[:12]}"
    try:
        yield prefix
    finally:
        keys = list(client.scan_iter(match=f"{prefix}:*"))
        if keys:
            client.delete(*keys)
        client.close()


@contextmanager
def scale_out_env(**extra: str) -> Iterator[tuple[str, dict[str, str]]]:
    """A fresh schema and Redis prefix, and the environment every process of a scale-out
    deployment on them runs with (no demo project); `extra` adds settings."""
    with pg_schema_url() as url, redis_prefix() as prefix:
        yield (
            url,
            {
                "USERTRAIL_DATABASE_URL": url,
                "USERTRAIL_BUS_URL": REDIS_URL,
                "USERTRAIL_BUS_PREFIX": prefix,
                "USERTRAIL_DEMO": "0",
                **extra,
            },
        )


@contextmanager
def settings_on(backend: str, data_dir: Path) -> Iterator[Settings]:
    """A fresh database: SQLite under `data_dir`, or a PostgreSQL schema of its own."""
    if backend == "sqlite":
        yield Settings(data_dir=data_dir, demo=False)
        return
    with pg_schema_url() as url:
        yield Settings(database_url=url, data_dir=data_dir, demo=False)


@contextmanager
def database_url(backend: str, sqlite_file: Path) -> Iterator[str]:
    """A fresh database's url: SQLite at `sqlite_file`, or a PostgreSQL schema of its own."""
    if backend == "sqlite":
        yield f"sqlite:///{sqlite_file}"
        return
    with pg_schema_url() as url:
        yield url
