"""The outside review's code-shape figures for `src/usertrail`, read with `ast`.

Function length is `def` line to last line (decorators not counted), every function and method,
nested ones included. Import cycles are the strongly connected components of the module-level
import graph in `tests/import_graph.py` (the graph `tests/test_architecture.py` checks), between
modules and between the package's parts (`web`, `mcp_server`, `core`...).

Run: `python -m bench.code_shape [SRC]` (default: this checkout's src/usertrail; for another
commit, `git archive <commit> src | tar -x -C /tmp/old` and pass /tmp/old/src/usertrail).
"""

from __future__ import annotations

import ast
import statistics
import sys
from pathlib import Path

from tests.import_graph import between_parts, cycles, package_graph

SRC = Path(__file__).parents[1] / "src" / "usertrail"
LONG = 50
BIG = 400


def function_lengths(root: Path) -> list[int]:
    return [
        node.end_lineno - node.lineno + 1
        for path in root.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno
    ]


def line_count(path: Path) -> int:
    return len(path.read_text().splitlines())


def p90(values: list[int]) -> float:
    return statistics.quantiles(values, n=10, method="inclusive")[-1]


def show(label: str, value: object) -> None:
    print(f"{label:<28}{value}")


def main(src: Path = SRC) -> None:
    lengths = function_lengths(src)
    over = sum(n > LONG for n in lengths)
    big = sorted(
        (line_count(p), str(p.relative_to(src))) for p in src.rglob("*.py") if line_count(p) > BIG
    )
    show("functions", len(lengths))
    show("median function length", f"{statistics.median(lengths):g}")
    show("p90 function length", f"{p90(lengths):g}")
    show(f"functions over {LONG} lines", f"{over} ({over / len(lengths):.1%})")
    show(f"modules over {BIG} lines", f"{len(big)} {', '.join(f'{p} ({n})' for n, p in big)}")
    graph = package_graph(src)
    for kind, found in (
        ("module", cycles(graph)),
        ("package-part", cycles(between_parts(graph, "usertrail"))),
    ):
        show(f"{kind} import cycles", len(found))
        for component in found:
            print(f"  {' <-> '.join(component)}")
    sql = src / "adapters" / "sql"
    sql_lines = sum(line_count(p) for p in sql.rglob("*.py") if "migrations" not in p.parts)
    migrations = sum(line_count(p) for p in (sql / "migrations").rglob("*.py"))
    show("adapters/sql/ lines", f"{sql_lines} (+ {migrations} in migrations/)")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else SRC)
