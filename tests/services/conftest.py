"""The services' tests run on both stores."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)
