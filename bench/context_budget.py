"""Budget use: how much of `max_tokens` the context fills, across the prompt corpus
(tests/context/corpus.py: demo flows, recorded SDK payloads, generated and hostile traces).

For each budget and format: the cases whose whole history is larger than the budget ("enough
history"), the lowest, median and mean share of the budget used by those, how many reach 85%,
and the cases refused because even the header is larger. Pure: no server, no clock.

Run: `python -m bench.context_budget`.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass

import msgspec
from rich.console import Console
from rich.table import Table
from tests.context.corpus import Case, all_cases

from usertrail.core.context.budget import count_tokens
from usertrail.core.context.build import MAX_EVENTS, ContextOptions
from usertrail.errors import BudgetTooSmall
from usertrail.model.context import UserContext

BUDGETS = (300, 1_500, 4_000)
FORMATS = ("markdown", "json")
FILLED = 0.85


@dataclass(frozen=True)
class Row:
    budget: int
    format: str
    cases: int  # with enough history
    shares: tuple[float, ...]
    refused: int
    ms_per_build: float


def returned_tokens(ctx: UserContext, format: str) -> int:
    if format == "markdown":
        return count_tokens(ctx.prompt or "")
    return count_tokens(msgspec.json.encode(msgspec.structs.replace(ctx, prompt=None)).decode())


def options(format: str, n: int | None = None, max_tokens: int | None = None) -> ContextOptions:
    as_markdown = format == "markdown"
    return ContextOptions(n=n, max_tokens=max_tokens, format="markdown" if as_markdown else "json")


def measure(cases: Sequence[Case], budget: int, format: str) -> Row:
    shares: list[float] = []
    refused = 0
    started = time.perf_counter()
    for case in cases:
        whole = returned_tokens(case.context(options(format, n=MAX_EVENTS)), format)
        try:
            used = returned_tokens(case.context(options(format, max_tokens=budget)), format)
        except BudgetTooSmall:
            refused += 1
            continue
        if whole > budget:
            shares.append(used / budget)
    ms = (time.perf_counter() - started) * 1000 / (2 * len(cases))
    return Row(budget, format, len(shares), tuple(shares), refused, ms)


def main() -> None:
    cases = all_cases()
    rows = [measure(cases, b, f) for b in BUDGETS for f in FORMATS]
    table = Table(
        title=f"Budget use across the prompt corpus ({len(cases)} traces)",
        caption="cases: traces whose whole history is larger than the budget; "
        "share: tokens returned / max_tokens (cl100k)",
    )
    columns = ("max_tokens", "format", "cases", "min", "median", "mean", "≥ 85 %", "refused")
    for column in (*columns, "ms/build"):
        table.add_column(column, justify="right")
    for r in rows:
        table.add_row(
            f"{r.budget:,}",
            r.format,
            str(r.cases),
            f"{min(r.shares):.1%}" if r.shares else "-",
            f"{statistics.median(r.shares):.1%}" if r.shares else "-",
            f"{statistics.fmean(r.shares):.1%}" if r.shares else "-",
            f"{sum(s >= FILLED for s in r.shares)}/{r.cases}",
            str(r.refused),
            f"{r.ms_per_build:.1f}",
        )
    Console(width=120).print(table)


if __name__ == "__main__":
    main()
