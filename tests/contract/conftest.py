"""One storage contract, every backend: the same tests run on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

PG_URL = os.environ.get(
    "USERTRAIL_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _require_services() -> bool:
    return os.environ.get("USERTRAIL_REQUIRE_SERVICES") == "1"


def _pg_schema_url() -> Iterator[str]:
    """A fresh schema per test, dropped afterwards, so tests never see each other's rows."""
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        admin.dispose()
        if _require_services():
            pytest.fail(f"PostgreSQL is required (USERTRAIL_REQUIRE_SERVICES=1): {exc}")
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}")
    schema = f"ut_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'contract.db'}"
    else:
        yield from _pg_schema_url()
