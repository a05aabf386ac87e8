"""docs/design.md rule 3 for retrieval: the ranking, signals, prompt and metrics are pure; only the
index, the LLM client, the service and the harness touch the outside world."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_architecture import imports_of

PACKAGE = Path(__file__).parents[2] / "src" / "usertrail" / "retrieval"
EDGES = {"index.py", "llm.py", "service.py", "harness.py", "__init__.py"}
IO = ("sqlite3", "httpx", "starlette", "fastapi", "sqlalchemy", "structlog", "rich")
SHELL = ("usertrail.services", "usertrail.web", "usertrail.adapters", "usertrail.wiring")
IO_EDGES = ("usertrail.retrieval.index", "usertrail.retrieval.llm", "usertrail.retrieval.service")


@pytest.mark.parametrize(
    "path",
    sorted(p for p in PACKAGE.rglob("*.py") if p.name not in EDGES),
    ids=lambda p: str(p.relative_to(PACKAGE)),
)
def test_retrieval_core_does_no_io(path: Path) -> None:
    bad = {
        name
        for name in imports_of(path)
        if name.split(".")[0] in IO or name.startswith(SHELL) or name.startswith(IO_EDGES)
    }
    assert not bad, f"{path.name} imports {sorted(bad)}"
