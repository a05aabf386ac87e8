"""One storage contract, every backend: the same tests run on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import backends


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with backends.database_url(request.param, tmp_path / "contract.db") as url:
        yield url


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    with backends.redis_prefix() as prefix:
        yield prefix
