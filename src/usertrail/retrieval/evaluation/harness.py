"""`usertrail eval retrieval`: load the cases and the help index, run, print the table."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import msgspec
from rich.table import Table

from usertrail.errors import ConfigError
from usertrail.project_file import load_project_file
from usertrail.retrieval.evaluation.cases import EvalCase, parse_cases, unique_ids
from usertrail.retrieval.evaluation.metrics import Scores
from usertrail.retrieval.evaluation.run import SPLITS, Report, evaluate
from usertrail.retrieval.evaluation.sections import section_scores
from usertrail.retrieval.index import help_folder, load_help_index

_SETS = Path(__file__).parents[1]
# The set the ranker was designed against, and four sets written later by writers who had not
# seen the ranker (how each was measured is in the README, "Measured").
DEFAULT_CASES = (
    _SETS / "eval_cases.yaml",
    _SETS / "eval_cases_blind.yaml",
    _SETS / "eval_cases_blind_2.yaml",
    _SETS / "eval_cases_blind_3.yaml",
    _SETS / "eval_cases_blind_4.yaml",
)


def load_cases(paths: Sequence[Path]) -> tuple[EvalCase, ...]:
    """Every case of the files, in order; a case id may occur once in all of them."""
    cases: list[EvalCase] = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read eval cases {path}: {exc}") from exc
        cases.extend(parse_cases(text, source=str(path)))
    return unique_ids(cases, source=", ".join(map(str, paths)))


def run_eval(cases_paths: Sequence[Path], project_file: Path, limit: int | None = None) -> Report:
    """The cases (the first `limit` of them, if given) against the project's help articles."""
    config = load_project_file(project_file)
    folder = help_folder(project_file, config.help_docs)
    if folder is None:
        raise ConfigError(f"{project_file}: no help_docs folder to evaluate")
    index = load_help_index(folder, config)
    try:
        report = evaluate(load_cases(cases_paths)[:limit], index, config)
        return msgspec.structs.replace(report, sections=section_scores(index))
    finally:
        index.close()


def _cell(before: float, after: float) -> str:
    return f"{before:.3f} → {after:.3f}"


def _uplift(before: Scores, after: Scores) -> str:
    if before.mrr == 0:
        return "n/a"
    return f"{(after.mrr / before.mrr - 1) * 100:+.0f}%"


def rows(report: Report) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for split in SPLITS:
        q, b = report.query_only[split], report.behaviour[split]
        out.append(
            (
                split,
                str(q.cases),
                _cell(q.recall_at_1, b.recall_at_1),
                _cell(q.recall_at_5, b.recall_at_5),
                _cell(q.mrr, b.mrr),
                _uplift(q, b),
            )
        )
    return out


HEADERS = ("questions", "cases", "recall@1", "recall@5", "MRR", "MRR change")
SECTION_HEADERS = ("vague question, after an error", "its section first", "missed")


def section_rows(report: Report) -> list[tuple[str, ...]]:
    return [
        (s.question, f"{s.first} of {s.sections}", ", ".join(s.missed) or "-")
        for s in report.sections
    ]


def table(report: Report) -> Table:
    return _grid("Help retrieval: query only → behaviour-aware", HEADERS, rows(report))


def markdown(report: Report) -> str:
    return _markdown(HEADERS, rows(report))


def section_table(report: Report) -> Table:
    return _grid("Sections named for the error the user hit", SECTION_HEADERS, section_rows(report))


def section_markdown(report: Report) -> str:
    return _markdown(SECTION_HEADERS, section_rows(report))


def _grid(title: str, headers: tuple[str, ...], body: list[tuple[str, ...]]) -> Table:
    grid = Table(*headers, title=title)
    for row in body:
        grid.add_row(*row)
    return grid


def _markdown(headers: tuple[str, ...], body: list[tuple[str, ...]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    return "\n".join(lines)


def per_case(report: Report) -> Table:
    grid = Table("case", "ambiguous", "expected", "rank: query only", "rank: behaviour")
    for r in report.results:
        grid.add_row(
            r.id,
            "yes" if r.ambiguous else "no",
            r.expected,
            str(r.query_only or "-"),
            str(r.behaviour or "-"),
        )
    return grid
