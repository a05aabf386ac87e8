"""The layering in docs/design.md, checked: a pure core, one composition root, imports one way."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.import_graph import between_parts, cycles, package_graph

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
    "mcp",
    # the standard library's ways out: the environment, sockets, processes, threads, event loops
    *("os", "socket", "sqlite3", "subprocess", "smtplib", "threading", "asyncio"),
)
SHELL = (
    *("usertrail.adapters", "usertrail.services", "usertrail.web", "usertrail.wiring"),
    *("usertrail.mcp_server", "usertrail.observability"),
)


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


# create_app(settings) builds the runtime and hands its services to everything else in web/.
WEB_COMPOSITION = SRC / "web" / "app.py"
FRONT_ENDS = [p for p in modules("web") if p != WEB_COMPOSITION] + [SRC / "mcp_server.py"]


@pytest.mark.parametrize("path", FRONT_ENDS, ids=lambda p: str(p.relative_to(SRC)))
def test_handlers_get_services_never_the_runtime_or_an_adapter(path: Path) -> None:
    """Even for typing: a handler typed by the runtime can reach the engine through it."""
    bad = {n for n in imports_of(path) if n.startswith(("usertrail.adapters", "usertrail.wiring"))}
    assert not bad, f"{path.name} imports {sorted(bad)}"


def test_what_handlers_are_given_names_services_and_ports_not_adapters() -> None:
    assert not any(n.startswith("usertrail.adapters") for n in imports_of(SRC / "front.py"))


def test_the_package_has_no_module_level_import_cycle() -> None:
    assert cycles(package_graph(SRC)) == []


def test_the_package_parts_import_each_other_one_way() -> None:
    """`web` mounts the MCP server, so `mcp_server` takes nothing from `web`; the same for every
    pair of parts (`core`, `services`, `wiring`...)."""
    assert cycles(between_parts(package_graph(SRC), "usertrail")) == []


def test_the_cycle_finder_finds_a_cycle_and_only_the_modules_in_it() -> None:
    graph = {
        "p.a": frozenset({"p.b"}),
        "p.b": frozenset({"p.c"}),
        "p.c": frozenset({"p.a", "p.d"}),
        "p.d": frozenset(),
        "p.e": frozenset({"p.e"}),
    }
    assert cycles(graph) == [("p.a", "p.b", "p.c"), ("p.e",)]


def test_the_cycle_finder_finds_nothing_in_a_one_way_graph() -> None:
    assert cycles({"p.a": frozenset({"p.b", "p.c"}), "p.b": frozenset({"p.c"})}) == []


def test_a_cycle_between_parts_is_found_though_no_two_modules_import_each_other() -> None:
    """The shape web/ and mcp_server.py had: web.app -> mcp_server -> web.context_api."""
    graph = {
        "p.web.app": frozenset({"p.mcp_server", "p.web.context_api"}),
        "p.web.context_api": frozenset(),
        "p.mcp_server": frozenset({"p.web.context_api"}),
    }
    assert cycles(graph) == []
    assert cycles(between_parts(graph, "p")) == [("p.mcp_server", "p.web")]


def test_the_graph_reads_module_level_imports_but_not_deferred_ones(tmp_path: Path) -> None:
    package = tmp_path / "p"
    (package / "sub").mkdir(parents=True)
    sources = {
        "__init__.py": "",
        "a.py": "from p import b\n",
        "b.py": "from .sub import c\n",
        "sub/__init__.py": "",
        "sub/c.py": "from ..a import x\nimport p.d\n",
        "d.py": (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from p import a\n"
            "def f():\n    from p import b\n"
        ),
    }
    for name, text in sources.items():
        (package / name).write_text(text)
    graph = package_graph(package)
    assert graph["p.sub.c"] == {"p.a", "p.d"}
    assert graph["p.d"] == frozenset()
    assert cycles(graph) == [("p.a", "p.b", "p.sub.c")]
