"""Run the cases: each trace through the pipeline, each question retrieved twice."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from usertrail.model.config import ProjectConfig
from usertrail.retrieval.evaluation.cases import EvalCase, trace_events
from usertrail.retrieval.evaluation.metrics import Scores, rank_of, scores
from usertrail.retrieval.evaluation.replay import context_of
from usertrail.retrieval.evaluation.sections import SectionScore
from usertrail.retrieval.fusion import per_article
from usertrail.retrieval.retriever import Searcher, retrieve
from usertrail.retrieval.signals import behaviour_signals

DEPTH = 200  # chunks retrieved per question: enough to rank every article
SPLITS = ("ambiguous", "unambiguous", "all")
USER = "user_1"


class CaseResult(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    ambiguous: bool
    expected: str
    query_only: int | None  # rank of the expected article, None if not retrieved
    behaviour: int | None
    top_query_only: str | None
    top_behaviour: str | None


class Report(msgspec.Struct, frozen=True, kw_only=True):
    results: tuple[CaseResult, ...]
    query_only: dict[str, Scores]  # by split
    behaviour: dict[str, Scores]
    sections: tuple[SectionScore, ...] = ()  # the generated section-level check

    def regressed(self) -> bool:
        """Behaviour-aware worse than query-only on the unambiguous questions, as a whole or
        on any one of them."""
        before, after = self.query_only["unambiguous"], self.behaviour["unambiguous"]
        return bool(
            after.mrr < before.mrr or after.recall_at_1 < before.recall_at_1 or self.dropped()
        )

    def dropped(self) -> tuple[str, ...]:
        """The unambiguous cases whose article ranks lower with behaviour than without."""
        return tuple(
            r.id
            for r in self.results
            if not r.ambiguous and _rank(r.behaviour) > _rank(r.query_only)
        )


def _rank(rank: int | None) -> float:
    return float("inf") if rank is None else rank


def run_case(case: EvalCase, index: Searcher, config: ProjectConfig) -> CaseResult:
    ctx = context_of(trace_events(case, USER), config, USER)
    plain = per_article(retrieve(index, case.question, (), k=DEPTH).hits)
    aware = per_article(retrieve(index, case.question, behaviour_signals(ctx), k=DEPTH).hits)
    return CaseResult(
        id=case.id,
        ambiguous=case.ambiguous,
        expected=case.expected,
        query_only=rank_of(case.expected, plain),
        behaviour=rank_of(case.expected, aware),
        top_query_only=plain[0] if plain else None,
        top_behaviour=aware[0] if aware else None,
    )


def evaluate(cases: Sequence[EvalCase], index: Searcher, config: ProjectConfig) -> Report:
    unknown = sorted({c.expected for c in cases} - set(index.articles))
    if unknown:
        raise ValueError(f"cases expect articles that are not in the index: {unknown}")
    return report_of(tuple(run_case(case, index, config) for case in cases))


def report_of(results: tuple[CaseResult, ...]) -> Report:
    return Report(
        results=results,
        query_only={s: scores([r.query_only for r in _split(results, s)]) for s in SPLITS},
        behaviour={s: scores([r.behaviour for r in _split(results, s)]) for s in SPLITS},
    )


def _split(results: Sequence[CaseResult], split: str) -> list[CaseResult]:
    if split == "all":
        return list(results)
    return [r for r in results if r.ambiguous == (split == "ambiguous")]
