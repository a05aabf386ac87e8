"""The layering in DESIGN.md, checked: a pure core, and one composition root."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).parents[1] / "src" / "usertrail"
IO_LIBRARIES = (
    "sqlalchemy",
    "redis",
    "httpx",
    "starlette",
    "fastapi",
    "uvicorn",
    "psycopg",
    "aiosmtplib",
    "structlog",
    "prometheus_client",
)
SHELL = ("usertrail.adapters", "usertrail.services", "usertrail.web", "usertrail.wiring")


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def modules(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (SRC / folder).rglob("*.py"))


@pytest.mark.parametrize("path", modules("core", "model"), ids=lambda p: str(p.relative_to(SRC)))
def test_core_and_model_do_no_io(path: Path) -> None:
    bad = {
        name
        for name in imports_of(path)
        if name.split(".")[0] in IO_LIBRARIES or name.startswith(SHELL)
    }
    assert not bad, f"{path.name} imports {sorted(bad)}"


def test_only_the_composition_root_imports_adapters() -> None:
    outside = [p for p in SRC.rglob("*.py") if "adapters" not in p.parts and p.name != "wiring.py"]
    offenders = [
        p.name for p in outside if any(n.startswith("usertrail.adapters") for n in imports_of(p))
    ]
    assert offenders == []
