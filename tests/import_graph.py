"""The package's module-level import graph, read with `ast`, and the cycles in it.

Module level means what runs when the module is imported: imports inside functions and under
`if TYPE_CHECKING:` are not edges, because they cannot deadlock an import. `from a import b`
points at `a.b` when that is a module, else at `a`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

Graph = Mapping[str, frozenset[str]]


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_graph(root: Path) -> dict[str, frozenset[str]]:
    """Every module under `root` (a package folder) and the package modules it imports."""
    paths = {module_name(p, root): p for p in sorted(root.rglob("*.py"))}
    return {
        name: frozenset(_resolve(target, paths) for target in _module_level_imports(path, name))
        & paths.keys()
        for name, path in paths.items()
    }


def _resolve(target: str, known: Mapping[str, Path]) -> str:
    while target not in known and "." in target:
        target = target.rsplit(".", 1)[0]
    return target


def _module_level_imports(path: Path, name: str) -> Iterator[str]:
    is_package = path.name == "__init__.py"
    for node in _top_level(ast.parse(path.read_text()).body):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, name, is_package)
            yield from (f"{base}.{alias.name}" for alias in node.names)


def _absolute(node: ast.ImportFrom, name: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    package = name.split(".")
    drop = node.level - 1 if is_package else node.level
    prefix = package[: len(package) - drop]
    return ".".join([*prefix, node.module] if node.module else prefix)


def _top_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements run at import: into `try`/`if` bodies, never under `if TYPE_CHECKING:`."""
    for node in body:
        if isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                yield from _top_level(node.body)
            yield from _top_level(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody):
                yield from _top_level(block)
            for handler in node.handlers:
                yield from _top_level(handler.body)
        else:
            yield node


def _is_type_checking(test: ast.expr) -> bool:
    name = test.attr if isinstance(test, ast.Attribute) else getattr(test, "id", "")
    return name == "TYPE_CHECKING"


def cycles(graph: Graph) -> list[tuple[str, ...]]:
    """The strongly connected components with more than one module (or a self-import), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[tuple[str, ...]] = []

    def visit(node: str) -> None:  # Tarjan's; far below the recursion limit here
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = [stack.pop()]
            while component[-1] != node:
                component.append(stack.pop())
            if len(component) > 1 or node in graph.get(node, ()):
                found.append(tuple(sorted(component)))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def between_parts(graph: Graph, package: str) -> dict[str, frozenset[str]]:
    """The graph between `package`'s direct parts (`usertrail.web`, `usertrail.mcp_server`...):
    a module stands for the part it lives in, and imports within one part are dropped."""

    def part(module: str) -> str:
        return ".".join(module.split(".")[: package.count(".") + 2])

    parts: dict[str, set[str]] = {}
    for module, targets in graph.items():
        parts.setdefault(part(module), set()).update(
            part(t) for t in targets if part(t) != part(module)
        )
    return {name: frozenset(targets) for name, targets in parts.items()}
