"""Fixtures the scale tests share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.backends import pg_schema_url


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """The database URL and the processes' environment (no bus on either)."""
    data = tmp_path / "dätä dir"  # the lock file's directory: non-ASCII and a space
    env = {"USERTRAIL_DEMO": "0"}
    if request.param == "sqlite":
        yield f"sqlite:///{data / 'usertrail.db'}", env
        return
    with pg_schema_url() as url:
        yield url, {**env, "USERTRAIL_DATABASE_URL": url}
